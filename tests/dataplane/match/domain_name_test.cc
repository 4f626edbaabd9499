#include "dataplane/match/domain_name.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace sensor::dp {
namespace {

using ::testing::HasSubstr;

std::string MessageOf(const absl::Status& status) {
  return std::string(status.message().data(), status.message().size());
}

// A name of `length` characters made of labels of at most 63 characters.
std::string NameOfLength(size_t length) {
  std::string name;
  char letter = 'a';
  while (name.size() < length) {
    if (!name.empty()) {
      name += '.';
    }
    const size_t label = std::min<size_t>(kMaxDomainLabelLength, length - name.size());
    name.append(label, letter++);
  }
  return name;
}

struct CanonicalCase {
  std::string_view input;
  std::string_view expected;
};

TEST(DomainNameTest, CanonicalFormsAreEqual) {
  const CanonicalCase cases[] = {
      {"example.com", "example.com"},
      {"Example.COM.", "example.com"},
      {"WWW.Example.Com", "www.example.com"},
      {"bücher.example", "xn--bcher-kva.example"},
      {"BÜCHER.example", "xn--bcher-kva.example"},
      {"xn--bcher-kva.example", "xn--bcher-kva.example"},
      {"XN--BCHER-KVA.Example.", "xn--bcher-kva.example"},
      // U+3002 IDEOGRAPHIC FULL STOP separates labels as "." does.
      {"bücher。example", "xn--bcher-kva.example"},
      // Fullwidth letters map to ASCII under UTS #46.
      {"\xEF\xBC\xA5\xEF\xBD\x98\xEF\xBD\x81\xEF\xBD\x8D\xEF\xBD\x90\xEF\xBD\x8C\xEF\xBD\x85.com",
       "example.com"},
      {"faß.de", "xn--fa-hia.de"},
      {"_dmarc.Example.com", "_dmarc.example.com"},
      {"-edge-.example.com", "-edge-.example.com"},
      {"192.0.2.1", "192.0.2.1"},
      // An emoji A-label, valid under UTS #46 but not IDNA2008.
      {"xn--i-7iq.ws", "xn--i-7iq.ws"},
      // From the Infoblox feed event "sitting_ducks_20241113_iocs": a trailing space.
      {"ipv4.mikifox.com ", "ipv4.mikifox.com"},
      // From the Infoblox feed event "vault_viper_20251016": an A-label subdomain.
      {"xn--29s7ix44lsga.ub66.com", "xn--29s7ix44lsga.ub66.com"},
  };
  for (const CanonicalCase& c : cases) {
    absl::StatusOr<std::string> canonical = CanonicalizeDomainName(c.input);
    ASSERT_TRUE(canonical.ok()) << c.input << ": " << canonical.status();
    EXPECT_EQ(*canonical, c.expected) << c.input;
  }
}

TEST(DomainNameTest, InvalidNamesAreRejected) {
  const std::string_view cases[] = {
      "",
      ".",
      "a..b",
      ".a",
      "a.b..",
      "a b.com",
      "exa$mple.com",
      "example.com/path",
      "xn--zzzz.example",  // Invalid Punycode.
      "xn--.example",
      "\xF0\x9F\x92\xA9.la",  // U+1F4A9, disallowed in a U-label by IDNA2008.
      "a\x80.example",        // Not UTF-8.
  };
  for (std::string_view input : cases) {
    absl::StatusOr<std::string> canonical = CanonicalizeDomainName(input);
    EXPECT_FALSE(canonical.ok()) << input << " became " << canonical.value_or("");
  }
}

TEST(DomainNameTest, MessageNamesValueAndRule) {
  absl::StatusOr<std::string> canonical = CanonicalizeDomainName("a..b");
  ASSERT_FALSE(canonical.ok());
  EXPECT_THAT(MessageOf(canonical.status()), HasSubstr("\"a..b\""));
  EXPECT_THAT(MessageOf(canonical.status()), HasSubstr("empty label"));

  canonical = CanonicalizeDomainName("xn--zzzz.example");
  ASSERT_FALSE(canonical.ok());
  EXPECT_THAT(MessageOf(canonical.status()), HasSubstr("\"xn--zzzz\""));
  EXPECT_THAT(MessageOf(canonical.status()), HasSubstr("A-label"));

  canonical = CanonicalizeDomainName("exa$mple.com");
  ASSERT_FALSE(canonical.ok());
  EXPECT_THAT(MessageOf(canonical.status()), HasSubstr("\"$\" at offset 3"));
}

TEST(DomainNameTest, LengthLimits) {
  const std::string name_253 = NameOfLength(253);
  ASSERT_EQ(name_253.size(), 253u);
  absl::StatusOr<std::string> canonical = CanonicalizeDomainName(name_253);
  ASSERT_TRUE(canonical.ok()) << canonical.status();
  EXPECT_EQ(*canonical, name_253);

  canonical = CanonicalizeDomainName(name_253 + ".");
  ASSERT_TRUE(canonical.ok()) << "a trailing dot does not count";
  EXPECT_EQ(*canonical, name_253);

  const std::string name_254 = NameOfLength(254);
  ASSERT_EQ(name_254.size(), 254u);
  canonical = CanonicalizeDomainName(name_254);
  ASSERT_FALSE(canonical.ok());
  EXPECT_THAT(MessageOf(canonical.status()), HasSubstr("254 characters; the maximum is 253"));

  const std::string label_63(63, 'x');
  EXPECT_TRUE(CanonicalizeDomainName(label_63 + ".com").ok());
  const std::string label_64(64, 'x');
  canonical = CanonicalizeDomainName(label_64 + ".com");
  ASSERT_FALSE(canonical.ok());
  EXPECT_THAT(MessageOf(canonical.status()), HasSubstr("has 64 characters; the maximum is 63"));
}

TEST(DomainNameTest, AsciiPathMatchesControlPath) {
  const std::string cases[] = {"Example.COM.", "_sip._tcp.Example.org", "xn--bcher-kva.example",
                               "a-b.c-d.e", NameOfLength(253)};
  for (const std::string& input : cases) {
    DomainNameBuffer buffer;
    ASSERT_EQ(CanonicalizeAsciiDomainName(input, buffer), DomainNameStatus::kOk) << input;
    absl::StatusOr<std::string> canonical = CanonicalizeDomainName(input);
    ASSERT_TRUE(canonical.ok()) << input;
    EXPECT_EQ(buffer.view(), *canonical) << input;
  }
}

TEST(DomainNameTest, AsciiPathStatuses) {
  struct StatusCase {
    std::string_view input;
    DomainNameStatus expected;
  };
  const std::string name_254 = NameOfLength(254);
  const std::string label_64 = std::string(64, 'x') + ".com";
  const StatusCase cases[] = {
      {"", DomainNameStatus::kEmpty},
      {".", DomainNameStatus::kEmpty},
      {"a..b", DomainNameStatus::kEmptyLabel},
      {".a", DomainNameStatus::kEmptyLabel},
      {"a.b..", DomainNameStatus::kEmptyLabel},
      {label_64, DomainNameStatus::kLabelTooLong},
      {name_254, DomainNameStatus::kNameTooLong},
      {"a b.com", DomainNameStatus::kInvalidCharacter},
      {"bücher.example", DomainNameStatus::kNonAscii},
      // Punycode is not decoded on this path: the label cannot equal a stored name.
      {"xn--zzzz.example", DomainNameStatus::kOk},
  };
  for (const StatusCase& c : cases) {
    DomainNameBuffer buffer;
    EXPECT_EQ(CanonicalizeAsciiDomainName(c.input, buffer), c.expected)
        << c.input << " expected " << DomainNameStatusName(c.expected);
  }
}

TEST(DomainNameTest, AsciiPathReportsNonAsciiBeforeLength) {
  // More than 253 bytes of UTF-8 may still convert to a short enough name, so the ASCII
  // path must not call such a name too long.
  std::string name;
  for (int i = 0; i < 130; ++i) {
    name += "\xC3\xBC";  // U+00FC
  }
  name += ".example";
  DomainNameBuffer buffer;
  EXPECT_EQ(CanonicalizeAsciiDomainName(name, buffer), DomainNameStatus::kNonAscii);
}

TEST(DomainNameTest, StatusNamesAreDistinct) {
  for (int i = 0; i < kDomainNameStatusCount; ++i) {
    for (int j = i + 1; j < kDomainNameStatusCount; ++j) {
      EXPECT_NE(DomainNameStatusName(static_cast<DomainNameStatus>(i)),
                DomainNameStatusName(static_cast<DomainNameStatus>(j)));
    }
  }
}

}  // namespace
}  // namespace sensor::dp
