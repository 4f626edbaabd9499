// Tests for Community ID v1. The vectors are the published baseline of the specification
// repository (github.com/corelight/community-id-spec, commit b1fe530): the three tables of
// baseline/README.md and the rows of baseline/baseline_deflt.json, baseline_seed1.json and
// baseline_nob64.json. Decoded frames are checked against tshark 4.0's communityid field.
#include "dataplane/flow/community_id.h"

#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "dataplane/decode/decoder.h"
#include "dataplane/decode/packet.h"
#include "tests/dataplane/decode/decode_test_util.h"

namespace sensor::dp {
namespace {

using decode_test::Address;
using decode_test::DecodeFrame;
using decode_test::ReadCaptureFrames;

// One flow tuple of the baseline with its ID for seed 0 and seed 1, and the hexadecimal
// SHA-1 for seed 0 (the "no base64" variant, without its "1:" prefix).
struct BaselineVector {
  uint8_t protocol;
  const char* src;
  const char* dst;
  // TCP, UDP, SCTP: the ports. ICMP, ICMPv6: the type and the code.
  uint16_t src_port;
  uint16_t dst_port;
  const char* id_seed0;
  const char* id_seed1;
  const char* digest_seed0;
};

void PrintTo(const BaselineVector& vector, std::ostream* out) {
  *out << static_cast<int>(vector.protocol) << " " << vector.src << ":" << vector.src_port << " -> "
       << vector.dst << ":" << vector.dst_port;
}

CommunityIdTuple TupleOf(const BaselineVector& vector) {
  const bool is_v6 = std::string(vector.src).find(':') != std::string::npos;
  return CommunityIdTuple{
      .src = Address(vector.src),
      .dst = Address(vector.dst),
      .ip_version = static_cast<uint8_t>(is_v6 ? 6 : 4),
      .protocol = vector.protocol,
      .src_port = vector.src_port,
      .dst_port = vector.dst_port,
  };
}

std::string HexDigest(const CommunityIdTuple& tuple, uint16_t seed) {
  std::array<uint8_t, kCommunityIdDigestLength> digest{};
  EXPECT_TRUE(ComputeCommunityIdDigest(tuple, seed, digest));
  std::string hex;
  for (const uint8_t byte : digest) {
    char text[3] = {};
    std::snprintf(text, sizeof(text), "%02x", byte);
    hex += text;
  }
  return hex;
}

class BaselineTest : public testing::TestWithParam<BaselineVector> {};

TEST_P(BaselineTest, DefaultSeed) {
  EXPECT_EQ(CommunityId(TupleOf(GetParam())), GetParam().id_seed0);
}

TEST_P(BaselineTest, SeedOne) {
  EXPECT_EQ(CommunityId(TupleOf(GetParam()), 1), GetParam().id_seed1);
}

TEST_P(BaselineTest, DigestWithoutBase64) {
  EXPECT_EQ(HexDigest(TupleOf(GetParam()), 0), GetParam().digest_seed0);
}

// baseline/README.md: TCP, UDP and SCTP both ways, ICMP echo both ways and time exceeded
// (one-way), ICMPv6 echo both ways and type 146 (one-way), and RSVP (protocol 46, no
// ports) over IPv4 and IPv6.
constexpr BaselineVector kReadmeVectors[] = {
    {6, "1.2.3.4", "5.6.7.8", 1122, 3344, "1:wCb3OG7yAFWelaUydu0D+125CLM=",
     "1:HhA1B+6CoLbiKPEs5nhNYN4XWfk=", "c026f7386ef200559e95a53276ed03fb5db908b3"},
    {6, "5.6.7.8", "1.2.3.4", 3344, 1122, "1:wCb3OG7yAFWelaUydu0D+125CLM=",
     "1:HhA1B+6CoLbiKPEs5nhNYN4XWfk=", "c026f7386ef200559e95a53276ed03fb5db908b3"},
    {17, "1.2.3.4", "5.6.7.8", 1122, 3344, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=",
     "1:OShq+iKDAMVouh/4bMxB9Sz4amw=", "d0cbbd227431eb3e1988264cffb1d78b658c84e8"},
    {17, "5.6.7.8", "1.2.3.4", 3344, 1122, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=",
     "1:OShq+iKDAMVouh/4bMxB9Sz4amw=", "d0cbbd227431eb3e1988264cffb1d78b658c84e8"},
    {132, "1.2.3.4", "5.6.7.8", 1122, 3344, "1:EKt4MsxuyaE6mL+hmrEkQ9csDD8=",
     "1:uitchpn5MMGAQKBJh7bIr/bAr7s=", "10ab7832cc6ec9a13a98bfa19ab12443d72c0c3f"},
    {132, "5.6.7.8", "1.2.3.4", 3344, 1122, "1:EKt4MsxuyaE6mL+hmrEkQ9csDD8=",
     "1:uitchpn5MMGAQKBJh7bIr/bAr7s=", "10ab7832cc6ec9a13a98bfa19ab12443d72c0c3f"},
    {1, "1.2.3.4", "5.6.7.8", 8, 0, "1:crodRHL2FEsHjbv3UkRrfbs4bZ0=",
     "1:9pr4ZGTICiuZoIh90RRYE2RyXpU=", "72ba1d4472f6144b078dbbf752446b7dbb386d9d"},
    {1, "5.6.7.8", "1.2.3.4", 0, 0, "1:crodRHL2FEsHjbv3UkRrfbs4bZ0=",
     "1:9pr4ZGTICiuZoIh90RRYE2RyXpU=", "72ba1d4472f6144b078dbbf752446b7dbb386d9d"},
    {1, "1.2.3.4", "5.6.7.8", 11, 0, "1:f/YiSyWqczrTgfUCZlBUnvHRcPk=",
     "1:1DD7cWGC/Yg91YGsQeni8du3pIA=", "7ff6224b25aa733ad381f5026650549ef1d170f9"},
    {58, "fe80:0001:0203:0405:0607:0809:0a0b:0c0d", "fe80:1011:1213:1415:1617:1819:1a1b:1c1d", 128,
     0, "1:0bf7hyMJUwt3fMED7z8LIfRpBeo=", "1:IO27GQzPuCtNnwFvjWALMHu5tJE=",
     "d1b7fb872309530b777cc103ef3f0b21f46905ea"},
    {58, "fe80:1011:1213:1415:1617:1819:1a1b:1c1d", "fe80:0001:0203:0405:0607:0809:0a0b:0c0d", 129,
     0, "1:0bf7hyMJUwt3fMED7z8LIfRpBeo=", "1:IO27GQzPuCtNnwFvjWALMHu5tJE=",
     "d1b7fb872309530b777cc103ef3f0b21f46905ea"},
    {58, "fe80:0001:0203:0405:0607:0809:0a0b:0c0d", "fe80:1011:1213:1415:1617:1819:1a1b:1c1d", 146,
     0, "1:fYC8+pz24E+EhANP1EZhpX0Dw10=", "1:Cv4IKJe56BNkF0MBW2YxQ3Nwc3s=",
     "7d80bcfa9cf6e04f8484034fd44661a57d03c35d"},
    {46, "1.2.3.4", "5.6.7.8", 0, 0, "1:ikv3kmf89luf73WPz1jOs49S768=",
     "1:/buhqeOmaRCopOZFy9HnoJd5XW8=", "8a4bf79267fcf65b9fef758fcf58ceb38f52efaf"},
    {46, "5.6.7.8", "1.2.3.4", 0, 0, "1:ikv3kmf89luf73WPz1jOs49S768=",
     "1:/buhqeOmaRCopOZFy9HnoJd5XW8=", "8a4bf79267fcf65b9fef758fcf58ceb38f52efaf"},
    {46, "fe80:0001:0203:0405:0607:0809:0a0b:0c0d", "fe80:1011:1213:1415:1617:1819:1a1b:1c1d", 0, 0,
     "1:wQ/2mwrnXP4lmJcHdGL5ePjR+e0=", "1:j6EyyfBzL4vWKHFXgUqb5Az3OxM=",
     "c10ff69b0ae75cfe259897077462f978f8d1f9ed"},
    {46, "fe80:1011:1213:1415:1617:1819:1a1b:1c1d", "fe80:0001:0203:0405:0607:0809:0a0b:0c0d", 0, 0,
     "1:wQ/2mwrnXP4lmJcHdGL5ePjR+e0=", "1:j6EyyfBzL4vWKHFXgUqb5Az3OxM=",
     "c10ff69b0ae75cfe259897077462f978f8d1f9ed"},
};

INSTANTIATE_TEST_SUITE_P(ReadmeTables, BaselineTest, testing::ValuesIn(kReadmeVectors));

// baseline/baseline_*.json, taken from the specification's pcaps/combined.pcap.gz. The
// files list the port equivalents of ICMP and ICMPv6 messages: the type, then the type of
// the reply for two-way messages or the code for one-way ones. Passed as type and code,
// they hash alike, because the code of a two-way type is not hashed.
constexpr BaselineVector kJsonVectors[] = {
    {58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 135, 136,
     "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=", "1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY=",
     "7461f21af8cc7e58e0e81a69c26ddb8342cef136"},
    {58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 136, 135,
     "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=", "1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY=",
     "7461f21af8cc7e58e0e81a69c26ddb8342cef136"},
    {58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 135, 136,
     "1:zavyT/cezQr1fmImYCwYnMXbgck=", "1:2hSqmsDZ2kdcY9kbiUzOEBic0iM=",
     "cdabf24ff71ecd0af57e6226602c189cc5db81c9"},
    {58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 136, 135,
     "1:zavyT/cezQr1fmImYCwYnMXbgck=", "1:2hSqmsDZ2kdcY9kbiUzOEBic0iM=",
     "cdabf24ff71ecd0af57e6226602c189cc5db81c9"},
    {58, "3ffe:501:1800:2345::2", "3ffe:507:0:1:200:86ff:fe05:80da", 3, 0,
     "1:2ObVBgIn28oZvibYZhZMBgh7WdQ=", "1:lVEtCZpYu84Xqaa++3lXFyuu2n4=",
     "d8e6d5060227dbca19be26d866164c06087b59d4"},
    {58, "3ffe:501:410:0:2c0:dfff:fe47:33e", "3ffe:507:0:1:200:86ff:fe05:80da", 1, 4,
     "1:hLZd0XGWojozrvxqE0dWB1iM6R0=", "1:W8MHwXpWzpoSTD+cGcaJr4u0ys8=",
     "84b65dd17196a23a33aefc6a13475607588ce91d"},
    {58, "3ffe:507:0:1:200:86ff:fe05:80da", "3ffe:501:0:1001::2", 128, 129,
     "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=", "1:GfZxjAkDk2MkegpBYHV6tadtFXQ=",
     "f935be1ed2c7bd5d719c6855d65bfb5e826ba908"},
    {58, "3ffe:501:0:1001::2", "3ffe:507:0:1:200:86ff:fe05:80da", 129, 128,
     "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=", "1:GfZxjAkDk2MkegpBYHV6tadtFXQ=",
     "f935be1ed2c7bd5d719c6855d65bfb5e826ba908"},
    {58, "fe80::200:86ff:fe05:80da", "ff02::2", 133, 134, "1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0=",
     "1:L7Ka0ZMYu+J3bL4ulW2PrqyXNo8=", "84efac3781fe306e4c63ff2122b5cfa9ce19433d"},
    {58, "fe80::260:97ff:fe07:69ea", "ff02::1", 134, 133, "1:pkvHqCL88/tg1k4cPigmZXUtL00=",
     "1:K/ee5UCqAMAQXDorP5nSa2CGLjc=", "a64bc7a822fcf3fb60d64e1c3e282665752d2f4d"},
    {1, "192.168.0.89", "192.168.0.1", 8, 0, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=",
     "1:03g6IloqVBdcZlPyX8r0hgoE7kA=", "5f4b27617a60c22bfd4d9b6a83ae2c833527e839"},
    {1, "192.168.0.1", "192.168.0.89", 0, 8, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=",
     "1:03g6IloqVBdcZlPyX8r0hgoE7kA=", "5f4b27617a60c22bfd4d9b6a83ae2c833527e839"},
    {1, "10.0.0.1", "10.0.0.2", 11, 0, "1:YHxtAirCG//0OzkcVAukqKQN9xM=",
     "1:XjUibYHaafLQ3pxQeiMI8g25q20=", "607c6d022ac21bfff43b391c540ba4a8a40df713"},
    {6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25,
     "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=", "1:eJYTW6AOzFLlSUoESovMjnu7rMw=",
     "fea15a78047e8057b52988cccd50ec32ffb0814e"},
    {6, "2607:f8b0:400c:c03::1a", "2001:470:e5bf:dead:4957:2174:e82c:4887", 25, 63943,
     "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=", "1:eJYTW6AOzFLlSUoESovMjnu7rMw=",
     "fea15a78047e8057b52988cccd50ec32ffb0814e"},
    {132, "192.168.170.8", "192.168.170.56", 7, 7, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=",
     "1:5w3ZRjeKBzqT3zsaEECDGjUbYeg=", "30fd84b5108050866f4f0e8cc491cb57b37b243b"},
    {132, "192.168.170.56", "192.168.170.8", 7, 7, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=",
     "1:5w3ZRjeKBzqT3zsaEECDGjUbYeg=", "30fd84b5108050866f4f0e8cc491cb57b37b243b"},
    {6, "128.232.110.120", "66.35.250.204", 34855, 80, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=",
     "1:3V71V58M3Ksw/yuFALMcW0LAHvc=", "2d053da9994af81e45dca0e67afea6e4f3226eb8"},
    {6, "66.35.250.204", "128.232.110.120", 80, 34855, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=",
     "1:3V71V58M3Ksw/yuFALMcW0LAHvc=", "2d053da9994af81e45dca0e67afea6e4f3226eb8"},
    {17, "192.168.1.52", "8.8.8.8", 54585, 53, "1:d/FP5EW3wiY1vCndhwleRRKHowQ=",
     "1:Q9We8WO3piVF8yEQBNJF4uiSVrI=", "77f14fe445b7c22635bc29dd87095e451287a304"},
    {17, "8.8.8.8", "192.168.1.52", 53, 54585, "1:d/FP5EW3wiY1vCndhwleRRKHowQ=",
     "1:Q9We8WO3piVF8yEQBNJF4uiSVrI=", "77f14fe445b7c22635bc29dd87095e451287a304"},
    {46, "10.1.12.1", "10.1.12.2", 0, 0, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=",
     "1:rYir8gphR31noO9iDRQmF/BteEI=", "28794b920a095bb89f513c934a0c957e4147ccac"},
    {46, "10.1.12.2", "10.1.12.1", 0, 0, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=",
     "1:rYir8gphR31noO9iDRQmF/BteEI=", "28794b920a095bb89f513c934a0c957e4147ccac"},
};

INSTANTIATE_TEST_SUITE_P(BaselineJson, BaselineTest, testing::ValuesIn(kJsonVectors));

TEST(CommunityIdTest, WritesFixedLengthText) {
  std::array<char, kCommunityIdLength> id{};
  const CommunityIdTuple tuple{.src = Address("1.2.3.4"),
                               .dst = Address("5.6.7.8"),
                               .ip_version = 4,
                               .protocol = kIpProtoTcp,
                               .src_port = 1122,
                               .dst_port = 3344};
  ASSERT_TRUE(WriteCommunityId(tuple, 0, id));
  // baseline/README.md, TCP with default settings.
  EXPECT_EQ(std::string(id.data(), id.size()), "1:wCb3OG7yAFWelaUydu0D+125CLM=");
}

// A one-way ICMP message is hashed in the order it was sent, so the reverse direction of
// baseline/README.md's time exceeded row has an ID of its own.
TEST(CommunityIdTest, OneWayIcmpKeepsDirection) {
  const CommunityIdTuple forward{.src = Address("1.2.3.4"),
                                 .dst = Address("5.6.7.8"),
                                 .ip_version = 4,
                                 .protocol = kIpProtoIcmp,
                                 .src_port = 11,
                                 .dst_port = 0};
  CommunityIdTuple reverse = forward;
  reverse.src = forward.dst;
  reverse.dst = forward.src;
  EXPECT_EQ(CommunityId(forward), "1:f/YiSyWqczrTgfUCZlBUnvHRcPk=");
  EXPECT_NE(CommunityId(reverse), CommunityId(forward));
}

// The code of a two-way message does not reach the hash: an echo request with code 5
// has baseline/README.md's echo request ID.
TEST(CommunityIdTest, TwoWayIcmpIgnoresCode) {
  const CommunityIdTuple echo{.src = Address("1.2.3.4"),
                              .dst = Address("5.6.7.8"),
                              .ip_version = 4,
                              .protocol = kIpProtoIcmp,
                              .src_port = 8,
                              .dst_port = 5};
  EXPECT_EQ(CommunityId(echo), "1:crodRHL2FEsHjbv3UkRrfbs4bZ0=");
}

// Ports of a protocol without a port part are not hashed.
TEST(CommunityIdTest, PortlessProtocolIgnoresPorts) {
  const CommunityIdTuple rsvp{.src = Address("1.2.3.4"),
                              .dst = Address("5.6.7.8"),
                              .ip_version = 4,
                              .protocol = 46,
                              .src_port = 1,
                              .dst_port = 2};
  EXPECT_EQ(CommunityId(rsvp), "1:ikv3kmf89luf73WPz1jOs49S768=");
}

TEST(CommunityIdTupleOfTest, NoIpHeader) {
  EXPECT_FALSE(CommunityIdTupleOf(PacketInfo{}).has_value());
}

TEST(CommunityIdTupleOfTest, LaterFragmentHasNoTuple) {
  for (const uint8_t protocol : {kIpProtoTcp, kIpProtoUdp, kIpProtoIcmp}) {
    SCOPED_TRACE(static_cast<int>(protocol));
    const PacketInfo info{.src = Address("192.0.2.1"),
                          .dst = Address("192.0.2.2"),
                          .ip_version = 4,
                          .protocol = protocol,
                          .is_fragment = true};
    EXPECT_FALSE(CommunityIdTupleOf(info).has_value());
  }
}

TEST(CommunityIdTupleOfTest, IcmpTypeAndCode) {
  const PacketInfo info{.src = Address("2001:db8::1"),
                        .dst = Address("2001:db8::2"),
                        .ip_version = 6,
                        .protocol = kIpProtoIcmpv6,
                        .icmp_type = 1,
                        .icmp_code = 4};
  const std::optional<CommunityIdTuple> tuple = CommunityIdTupleOf(info);
  ASSERT_TRUE(tuple.has_value());
  EXPECT_EQ(tuple->ip_version, 6);
  EXPECT_EQ(tuple->src_port, 1);
  EXPECT_EQ(tuple->dst_port, 4);
}

// SCTP ports are not decoded, and an ID without them would not match other monitors'.
TEST(CommunityIdTupleOfTest, SctpWithoutPorts) {
  const PacketInfo info{.src = Address("192.0.2.1"),
                        .dst = Address("192.0.2.2"),
                        .ip_version = 4,
                        .protocol = kIpProtoSctp};
  EXPECT_FALSE(CommunityIdTupleOf(info).has_value());
}

// baseline/README.md's RSVP row, which has no ports even when PacketInfo contains some.
TEST(CommunityIdTupleOfTest, OtherProtocolHasNoPorts) {
  const PacketInfo info{.src = Address("1.2.3.4"),
                        .dst = Address("5.6.7.8"),
                        .src_port = 7,
                        .ip_version = 4,
                        .protocol = 46};
  const std::optional<CommunityIdTuple> tuple = CommunityIdTupleOf(info);
  ASSERT_TRUE(tuple.has_value());
  EXPECT_EQ(CommunityId(*tuple), "1:ikv3kmf89luf73WPz1jOs49S768=");
}

// A frame and the communityid that tshark computes for it.
struct CaptureVector {
  const char* file;
  size_t frame_number;
  const char* id;
};

void PrintTo(const CaptureVector& vector, std::ostream* out) {
  *out << vector.file << " frame " << vector.frame_number;
}

class CaptureIdTest : public testing::TestWithParam<CaptureVector> {};

// For a tunnelled frame, tshark hashes the innermost tuple, which is what the decoder
// reports.
TEST_P(CaptureIdTest, MatchesTshark) {
  const CaptureVector& vector = GetParam();
  const std::vector<std::vector<uint8_t>> frames = ReadCaptureFrames(vector.file);
  ASSERT_GE(frames.size(), vector.frame_number);
  PacketInfo info;
  ASSERT_EQ(DecodeFrame(frames[vector.frame_number - 1], info), DecodeStatus::kOk);
  const std::optional<CommunityIdTuple> tuple = CommunityIdTupleOf(info);
  ASSERT_TRUE(tuple.has_value());
  EXPECT_EQ(CommunityId(*tuple), vector.id);
}

// Values: tshark -r FILE --enable-protocol communityid -T fields -e communityid.
INSTANTIATE_TEST_SUITE_P(
    Captures, CaptureIdTest,
    testing::Values(
        CaptureVector{"pcap/dns-a-aaaa-mx.pcap", 1, "1:1hiEbpS5ApizB1GmnbftJ9TOVEo="},
        CaptureVector{"pcap/dns-a-aaaa-mx.pcap", 2, "1:1hiEbpS5ApizB1GmnbftJ9TOVEo="},
        CaptureVector{"pcap/http-get-bro.org.pcap", 4, "1:yvyB8h+3dnggTZW0UEITWCst97w="},
        CaptureVector{"pcap/http-get-bro.org.pcap", 5, "1:yvyB8h+3dnggTZW0UEITWCst97w="},
        CaptureVector{"pcap/dns-v4v6-tcp-ipfrag.pcap", 11, "1:RdfCigQWNtBZkrIcvFA/N5LoLRw="},
        CaptureVector{"pcap/dns-v4v6-tcp-ipfrag.pcap", 12, "1:nTbObjd1pnIO8o3IcuInWa0jdVY="},
        CaptureVector{"pcap/dns-v4v6-tcp-ipfrag.pcap", 13, "1:OTT/4lXF1TBiy1ynQxny+vdLhgM="},
        CaptureVector{"pcap/ipv6-exthdr-http.pcap", 1, "1:on65FKMd1L8JTxiqb1eHl08W6vY="},
        CaptureVector{"pcap/ipv6-exthdr-http.pcap", 2, "1:1xcy2WHsKWPsze9lcUH+U6VVX5A="},
        CaptureVector{"pcap/ipv6-exthdr-http.pcap", 4, "1:Lemoi9vhwjyfeAvtAyITzfiUEeo="},
        CaptureVector{"pcap/gre-tunnel.pcap", 1, "1:4qiuUiapfKrMDVDHhw0iOgvogqI="},
        CaptureVector{"pcap/gre-tunnel.pcap", 2, "1:4qiuUiapfKrMDVDHhw0iOgvogqI="},
        CaptureVector{"pcap/gre-tunnel.pcap", 9, "1:veIAhY2jaBSkfqgIosmVNpCkTpE="},
        CaptureVector{"pcap/gre-tunnel.pcap", 11, "1:GvEAhAEKkdnTWFCXuw7HpDevs2w="},
        CaptureVector{"pcap/gre-tunnel.pcap", 33, "1:07ZQAeEnPuTfz/AxZbb/1SQ0Yvk="},
        CaptureVector{"pcap/gre-tunnel.pcap", 34, "1:bTAVApTgzlxwhyz+udTptSSnFcM="},
        CaptureVector{"pcap/vxlan-dns-ssh.pcap", 1, "1:lDU3cgA+B+anT72oLk1WvGhwST8="},
        CaptureVector{"pcap/vxlan-dns-ssh.pcap", 2, "1:lDU3cgA+B+anT72oLk1WvGhwST8="},
        CaptureVector{"pcap/vxlan-dns-ssh.pcap", 3, "1:MK4oF89JWitt8pr/OVDckdM1sJo="},
        CaptureVector{"pcap/vxlan-dns-ssh.pcap", 22, "1:hU9kkrQRLewZekQEWBgEQpEf3YI="},
        CaptureVector{"crafted/erspan-type2.pcap", 1, "1:tjHahyG73uLKojgAz9Y1/FQFGmg="},
        CaptureVector{"crafted/erspan-type3.pcap", 1, "1:QGXxwWqYD+Gd4pEfvNg5MtqZcpE="},
        CaptureVector{"crafted/erspan-type3.pcap", 2, "1:/ls3tWf9/e5mpmmPdnjFaIP+a9w="},
        CaptureVector{"crafted/gtpu-extension-header.pcap", 1, "1:v5Pj0Gs6mmYbh9VVESdWrQPRlkE="},
        CaptureVector{"crafted/gtpu-extension-header.pcap", 2, "1:elWlrknenBzkbflvRZITkYe6LUM="},
        CaptureVector{"crafted/ip-in-ip.pcap", 1, "1:zdeRkoRKrtyW6xfichgxveT69y4="},
        CaptureVector{"crafted/ip-in-ip.pcap", 2, "1:V3eVs4X1ZdJFGky7dO5NSwJw6WA="},
        CaptureVector{"crafted/ip-in-ip.pcap", 3, "1:C0T8G+WxoLiTgY8rNMpiLrr1FNs="},
        CaptureVector{"crafted/ipv6-in-ipv4.pcap", 1, "1:12LWWGzpOl9tLJsjqZv0T+ItfDQ="},
        CaptureVector{"crafted/mpls-in-gre.pcap", 1, "1:7Ds9Zq0y30QhZUcDkJSG8/LdsXE="},
        CaptureVector{"crafted/tunnel-stack.pcap", 1, "1:28Y3JcIGk1P9L7DMcLqsqJ600LA="}));

}  // namespace
}  // namespace sensor::dp
