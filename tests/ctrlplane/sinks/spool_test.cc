#include "ctrlplane/sinks/spool.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace sensor::ctl {
namespace {

namespace fs = std::filesystem;

class SpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::path(::testing::TempDir()) / "spool-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    options_.directory = (fs::path(root_) / "spool").string();
    options_.fsync = FsyncPolicy::kNone;
  }
  void TearDown() override { fs::remove_all(root_); }

  std::unique_ptr<Spool> OpenSpool() {
    absl::StatusOr<std::unique_ptr<Spool>> spool = Spool::Open(options_);
    EXPECT_TRUE(spool.ok()) << spool.status();
    return spool.ok() ? std::move(*spool) : nullptr;
  }

  std::vector<std::string> PendingDocuments(Spool& spool) {
    absl::StatusOr<std::vector<SpoolRecord>> records = spool.Peek(1000, 1 << 30);
    EXPECT_TRUE(records.ok()) << records.status();
    std::vector<std::string> documents;
    if (records.ok()) {
      for (const SpoolRecord& record : *records) documents.push_back(record.document);
    }
    return documents;
  }

  std::vector<fs::path> SegmentFiles() {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(options_.directory)) {
      if (entry.path().extension() == ".seg") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    return files;
  }

  std::string root_;
  SpoolOptions options_;
};

TEST_F(SpoolTest, PeekReturnsAppendedInOrder) {
  std::unique_ptr<Spool> spool = OpenSpool();
  ASSERT_NE(spool, nullptr);
  ASSERT_TRUE(spool->Append(R"({"n":1})").ok());
  ASSERT_TRUE(spool->Append(R"({"n":2})").ok());
  ASSERT_TRUE(spool->Append(R"({"n":3})").ok());

  absl::StatusOr<std::vector<SpoolRecord>> records = spool->Peek(10, 1 << 20);
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 3u);
  EXPECT_EQ((*records)[0].document, R"({"n":1})");
  EXPECT_EQ((*records)[2].document, R"({"n":3})");
  EXPECT_LT((*records)[0].sequence, (*records)[1].sequence);
  EXPECT_LT((*records)[1].sequence, (*records)[2].sequence);
  EXPECT_EQ(spool->stats().appended, 3u);
  EXPECT_EQ(spool->stats().pending_records, 3u);
  EXPECT_EQ(spool->stats().pending_bytes, 21u);
}

TEST_F(SpoolTest, PeekHonoursLimitsButReturnsOne) {
  std::unique_ptr<Spool> spool = OpenSpool();
  ASSERT_NE(spool, nullptr);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(spool->Append(std::string(100, 'a' + i)).ok());
  EXPECT_EQ(spool->Peek(2, 1 << 20)->size(), 2u);
  EXPECT_EQ(spool->Peek(10, 250)->size(), 2u);
  // A single record larger than the byte limit still comes out, or it would block.
  EXPECT_EQ(spool->Peek(10, 10)->size(), 1u);
}

TEST_F(SpoolTest, AcknowledgedRecordsLeave) {
  std::unique_ptr<Spool> spool = OpenSpool();
  ASSERT_NE(spool, nullptr);
  for (const char* document : {"a", "b", "c"}) ASSERT_TRUE(spool->Append(document).ok());
  std::vector<SpoolRecord> records = *spool->Peek(10, 1 << 20);
  const std::vector<uint64_t> done = {records[0].sequence, records[2].sequence};
  ASSERT_TRUE(spool->Acknowledge(done).ok());

  EXPECT_EQ(PendingDocuments(*spool), std::vector<std::string>{"b"});
  EXPECT_EQ(spool->stats().acknowledged, 2u);
  // Acknowledging twice, or an unknown sequence, changes nothing.
  const std::vector<uint64_t> again = {records[0].sequence, 999};
  ASSERT_TRUE(spool->Acknowledge(again).ok());
  EXPECT_EQ(spool->stats().acknowledged, 2u);
  EXPECT_EQ(spool->pending_records(), 1u);
}

TEST_F(SpoolTest, RestartReplaysPendingInOrder) {
  {
    std::unique_ptr<Spool> spool = OpenSpool();
    ASSERT_NE(spool, nullptr);
    for (const char* document : {"d0", "d1", "d2", "d3", "d4"}) {
      ASSERT_TRUE(spool->Append(document).ok());
    }
    std::vector<SpoolRecord> records = *spool->Peek(10, 1 << 20);
    // Out of order, as when only some items of a bulk request succeed.
    const std::vector<uint64_t> done = {records[3].sequence, records[0].sequence};
    ASSERT_TRUE(spool->Acknowledge(done).ok());
  }
  std::unique_ptr<Spool> spool = OpenSpool();
  ASSERT_NE(spool, nullptr);
  EXPECT_EQ(spool->stats().recovered, 3u);
  ASSERT_TRUE(spool->Append("new").ok());
  EXPECT_EQ(PendingDocuments(*spool), (std::vector<std::string>{"d1", "d2", "d4", "new"}));
}

TEST_F(SpoolTest, SequencesContinueAfterRestart) {
  uint64_t last = 0;
  {
    std::unique_ptr<Spool> spool = OpenSpool();
    ASSERT_NE(spool, nullptr);
    ASSERT_TRUE(spool->Append("x").ok());
    ASSERT_TRUE(spool->Append("y").ok());
    std::vector<SpoolRecord> records = *spool->Peek(10, 1 << 20);
    last = records.back().sequence;
    std::vector<uint64_t> all = {records[0].sequence, records[1].sequence};
    ASSERT_TRUE(spool->Acknowledge(all).ok());
  }
  std::unique_ptr<Spool> spool = OpenSpool();
  ASSERT_NE(spool, nullptr);
  EXPECT_EQ(spool->stats().recovered, 0u);
  ASSERT_TRUE(spool->Append("z").ok());
  std::vector<SpoolRecord> records = *spool->Peek(10, 1 << 20);
  ASSERT_EQ(records.size(), 1u);
  // A reused sequence number could match an old entry in acked.log and lose the record.
  EXPECT_GT(records[0].sequence, last);
}

TEST_F(SpoolTest, AcknowledgedSegmentsAreDeleted) {
  options_.segment_bytes = 256;
  options_.max_bytes = 1 << 20;
  std::unique_ptr<Spool> spool = OpenSpool();
  ASSERT_NE(spool, nullptr);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(spool->Append(std::string(100, 'x')).ok());
  // 108 bytes per record, 8 bytes of magic: two records per 256-byte segment.
  EXPECT_EQ(SegmentFiles().size(), 10u);
  std::vector<SpoolRecord> records = *spool->Peek(100, 1 << 30);
  std::vector<uint64_t> first_half;
  for (size_t i = 0; i < 10; ++i) first_half.push_back(records[i].sequence);
  ASSERT_TRUE(spool->Acknowledge(first_half).ok());
  EXPECT_EQ(SegmentFiles().size(), 5u);
  EXPECT_EQ(spool->stats().disk_bytes, 5u * (8 + 2 * 108));
  EXPECT_EQ(PendingDocuments(*spool).size(), 10u);
}

TEST_F(SpoolTest, FullSpoolRejectsAndCounts) {
  options_.segment_bytes = 512;
  options_.max_bytes = 1024;
  std::unique_ptr<Spool> spool = OpenSpool();
  ASSERT_NE(spool, nullptr);
  int accepted = 0;
  absl::Status status;
  for (int i = 0; i < 20 && status.ok(); ++i) {
    status = spool->Append(std::string(100, 'x'));
    if (status.ok()) ++accepted;
  }
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(status.message().find("is full"), absl::string_view::npos);
  // A segment of 8 bytes magic and four 108-byte records has 440 bytes. Two full
  // segments and a third with one record make 996 bytes, and one more would pass 1024.
  EXPECT_EQ(accepted, 9);
  EXPECT_EQ(spool->stats().rejected_full, 1u);
  EXPECT_EQ(spool->pending_records(), 9u);

  std::vector<SpoolRecord> records = *spool->Peek(100, 1 << 30);
  std::vector<uint64_t> all;
  for (const SpoolRecord& record : records) all.push_back(record.sequence);
  ASSERT_TRUE(spool->Acknowledge(all).ok());
  EXPECT_TRUE(spool->Append(std::string(100, 'y')).ok());
}

TEST_F(SpoolTest, CorruptTailIsTruncated) {
  {
    std::unique_ptr<Spool> spool = OpenSpool();
    ASSERT_NE(spool, nullptr);
    for (const char* document : {"first", "second", "third"}) {
      ASSERT_TRUE(spool->Append(document).ok());
    }
  }
  std::vector<fs::path> segments = SegmentFiles();
  ASSERT_EQ(segments.size(), 1u);
  const uintmax_t valid_size = fs::file_size(segments[0]);
  {
    // A record header announcing 100 bytes, followed by 7: a write cut by a crash.
    std::ofstream out(segments[0], std::ios::binary | std::ios::app);
    const char torn[] = {100, 0, 0, 0, 1, 2, 3, 4, 'p', 'a', 'r', 't', 'i', 'a', 'l'};
    out.write(torn, sizeof(torn));
  }
  std::unique_ptr<Spool> spool = OpenSpool();
  ASSERT_NE(spool, nullptr);
  EXPECT_EQ(spool->stats().corrupt_tails, 1u);
  EXPECT_EQ(spool->stats().corrupt_bytes, 15u);
  EXPECT_EQ(spool->stats().recovered, 3u);
  EXPECT_EQ(fs::file_size(segments[0]), valid_size);
  ASSERT_TRUE(spool->Append("fourth").ok());
  EXPECT_EQ(PendingDocuments(*spool),
            (std::vector<std::string>{"first", "second", "third", "fourth"}));
}

TEST_F(SpoolTest, CrcMismatchCutsTheRecord) {
  {
    std::unique_ptr<Spool> spool = OpenSpool();
    ASSERT_NE(spool, nullptr);
    ASSERT_TRUE(spool->Append("intact").ok());
    ASSERT_TRUE(spool->Append("damaged").ok());
  }
  std::vector<fs::path> segments = SegmentFiles();
  ASSERT_EQ(segments.size(), 1u);
  {
    // Flip the last payload byte: the length is right, the CRC is not.
    std::fstream file(segments[0], std::ios::binary | std::ios::in | std::ios::out);
    file.seekp(-1, std::ios::end);
    file.put('X');
  }
  std::unique_ptr<Spool> spool = OpenSpool();
  ASSERT_NE(spool, nullptr);
  EXPECT_EQ(spool->stats().corrupt_tails, 1u);
  EXPECT_EQ(spool->stats().corrupt_bytes, 8u + 7u);
  EXPECT_EQ(PendingDocuments(*spool), std::vector<std::string>{"intact"});
}

TEST_F(SpoolTest, CorruptAckLogTailIsIgnored) {
  {
    std::unique_ptr<Spool> spool = OpenSpool();
    ASSERT_NE(spool, nullptr);
    ASSERT_TRUE(spool->Append("kept").ok());
    ASSERT_TRUE(spool->Append("acknowledged").ok());
    std::vector<SpoolRecord> records = *spool->Peek(10, 1 << 20);
    const std::vector<uint64_t> done = {records[1].sequence};
    ASSERT_TRUE(spool->Acknowledge(done).ok());
  }
  {
    std::ofstream out(fs::path(options_.directory) / "acked.log", std::ios::binary | std::ios::app);
    out.write("\x01\x02\x03", 3);
  }
  std::unique_ptr<Spool> spool = OpenSpool();
  ASSERT_NE(spool, nullptr);
  EXPECT_EQ(spool->stats().corrupt_tails, 1u);
  EXPECT_EQ(PendingDocuments(*spool), std::vector<std::string>{"kept"});
}

TEST_F(SpoolTest, SegmentCutInsideMagicStartsAgain) {
  fs::create_directories(options_.directory);
  {
    std::ofstream out(fs::path(options_.directory) / "00000000000000000000.seg", std::ios::binary);
    out.write("SNSP", 4);
  }
  std::unique_ptr<Spool> spool = OpenSpool();
  ASSERT_NE(spool, nullptr);
  EXPECT_EQ(spool->stats().corrupt_tails, 1u);
  ASSERT_TRUE(spool->Append("after").ok());
  EXPECT_EQ(PendingDocuments(*spool), std::vector<std::string>{"after"});
}

TEST_F(SpoolTest, ForeignSegmentFileRejected) {
  fs::create_directories(options_.directory);
  {
    std::ofstream out(fs::path(options_.directory) / "00000000000000000000.seg");
    out << "this is not a spool segment";
  }
  absl::StatusOr<std::unique_ptr<Spool>> spool = Spool::Open(options_);
  ASSERT_FALSE(spool.ok());
  EXPECT_EQ(spool.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(spool.status().message().find("00000000000000000000.seg"), absl::string_view::npos);
}

TEST_F(SpoolTest, SecondProcessRejected) {
  std::unique_ptr<Spool> first = OpenSpool();
  ASSERT_NE(first, nullptr);
  // flock locks belong to the open file description, so a second open conflicts even
  // within one process.
  absl::StatusOr<std::unique_ptr<Spool>> second = Spool::Open(options_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(second.status().message().find("in use"), absl::string_view::npos);
}

TEST_F(SpoolTest, InvalidSizesRejected) {
  options_.segment_bytes = 1 << 20;
  options_.max_bytes = 1 << 10;
  absl::StatusOr<std::unique_ptr<Spool>> spool = Spool::Open(options_);
  ASSERT_FALSE(spool.ok());
  EXPECT_EQ(spool.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(SpoolTest, SyncUnderEveryPolicy) {
  for (FsyncPolicy policy : {FsyncPolicy::kNone, FsyncPolicy::kBatch, FsyncPolicy::kInterval}) {
    options_.fsync = policy;
    options_.directory = (fs::path(root_) / ("spool-" + std::to_string(int(policy)))).string();
    std::unique_ptr<Spool> spool = OpenSpool();
    ASSERT_NE(spool, nullptr);
    ASSERT_TRUE(spool->Append("document").ok());
    EXPECT_TRUE(spool->Sync().ok());
    std::vector<SpoolRecord> records = *spool->Peek(1, 1 << 20);
    const std::vector<uint64_t> done = {records[0].sequence};
    EXPECT_TRUE(spool->Acknowledge(done).ok());
    EXPECT_EQ(spool->pending_records(), 0u);
  }
}

}  // namespace
}  // namespace sensor::ctl
