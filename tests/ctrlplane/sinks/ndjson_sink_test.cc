#include "ctrlplane/sinks/ndjson_sink.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace sensor::ctl {
namespace {

namespace fs = std::filesystem;

class NdjsonSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::path(::testing::TempDir()) / "ndjson-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    options_.path = (fs::path(root_) / "alerts.ndjson").string();
  }
  void TearDown() override { fs::remove_all(root_); }

  std::unique_ptr<NdjsonSink> OpenSink() {
    absl::StatusOr<std::unique_ptr<NdjsonSink>> sink = NdjsonSink::Open(options_);
    EXPECT_TRUE(sink.ok()) << sink.status();
    return sink.ok() ? std::move(*sink) : nullptr;
  }

  static std::vector<std::string> Lines(const fs::path& path) {
    std::ifstream in(path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

  // Files in the directory whose names are the alert file plus a rotation suffix.
  std::vector<fs::path> RotatedFiles() {
    const std::regex rotated(R"(alerts\.ndjson\.\d{8}T\d{6}Z(\.\d+)?)");
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(fs::path(options_.path).parent_path())) {
      if (std::regex_match(entry.path().filename().string(), rotated)) {
        files.push_back(entry.path());
      }
    }
    std::sort(files.begin(), files.end());
    return files;
  }

  std::string root_;
  NdjsonSinkOptions options_;
};

TEST_F(NdjsonSinkTest, WritesOneLinePerDocument) {
  std::unique_ptr<NdjsonSink> sink = OpenSink();
  ASSERT_NE(sink, nullptr);
  ASSERT_TRUE(sink->Write(R"({"a":1})").ok());
  ASSERT_TRUE(sink->Write(R"({"b":2})").ok());
  ASSERT_TRUE(sink->Flush().ok());
  EXPECT_EQ(Lines(options_.path), (std::vector<std::string>{R"({"a":1})", R"({"b":2})"}));
  EXPECT_EQ(sink->stats().lines_written, 2u);
  EXPECT_EQ(sink->stats().bytes_written, 16u);
}

TEST_F(NdjsonSinkTest, RotatesBeforeTheSizeLimit) {
  options_.rotate_bytes = 100;
  options_.buffer_bytes = 1;  // Write each line at once.
  std::unique_ptr<NdjsonSink> sink = OpenSink();
  ASSERT_NE(sink, nullptr);
  const std::string line(39, 'x');  // 40 bytes with its newline: two fit in 100 bytes.
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(sink->Write(line).ok());
  ASSERT_TRUE(sink->Flush().ok());

  std::vector<fs::path> rotated = RotatedFiles();
  ASSERT_EQ(rotated.size(), 2u);
  size_t lines = Lines(options_.path).size();
  for (const fs::path& path : rotated) {
    EXPECT_EQ(fs::file_size(path), 80u) << path;
    lines += Lines(path).size();
  }
  EXPECT_EQ(fs::file_size(options_.path), 40u);
  EXPECT_EQ(lines, 5u);
  EXPECT_EQ(sink->stats().rotations, 2u);
}

TEST_F(NdjsonSinkTest, OversizedLineGetsOwnFile) {
  options_.rotate_bytes = 10;
  std::unique_ptr<NdjsonSink> sink = OpenSink();
  ASSERT_NE(sink, nullptr);
  ASSERT_TRUE(sink->Write(std::string(30, 'a')).ok());
  ASSERT_TRUE(sink->Write(std::string(30, 'b')).ok());
  ASSERT_TRUE(sink->Flush().ok());
  ASSERT_EQ(RotatedFiles().size(), 1u);
  EXPECT_EQ(Lines(RotatedFiles()[0]), std::vector<std::string>{std::string(30, 'a')});
  EXPECT_EQ(Lines(options_.path), std::vector<std::string>{std::string(30, 'b')});
}

TEST_F(NdjsonSinkTest, RotatesByAge) {
  options_.rotate_interval = std::chrono::seconds(1);
  std::unique_ptr<NdjsonSink> sink = OpenSink();
  ASSERT_NE(sink, nullptr);
  ASSERT_TRUE(sink->Write("old").ok());
  ASSERT_TRUE(sink->Flush().ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  sink->Tick();
  ASSERT_TRUE(sink->Write("new").ok());
  ASSERT_TRUE(sink->Flush().ok());
  std::vector<fs::path> rotated = RotatedFiles();
  ASSERT_EQ(rotated.size(), 1u);
  EXPECT_EQ(Lines(rotated[0]), std::vector<std::string>{"old"});
  EXPECT_EQ(Lines(options_.path), std::vector<std::string>{"new"});
}

TEST_F(NdjsonSinkTest, EmptyFileIsNotRotated) {
  options_.rotate_interval = std::chrono::seconds(1);
  std::unique_ptr<NdjsonSink> sink = OpenSink();
  ASSERT_NE(sink, nullptr);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  sink->Tick();
  EXPECT_TRUE(RotatedFiles().empty());
  EXPECT_EQ(sink->stats().rotations, 0u);
}

TEST_F(NdjsonSinkTest, TickWritesAgedLines) {
  options_.flush_interval = std::chrono::milliseconds(0);
  std::unique_ptr<NdjsonSink> sink = OpenSink();
  ASSERT_NE(sink, nullptr);
  ASSERT_TRUE(sink->Write("line").ok());
  EXPECT_EQ(fs::file_size(options_.path), 0u);
  sink->Tick();
  EXPECT_EQ(Lines(options_.path), std::vector<std::string>{"line"});
}

TEST_F(NdjsonSinkTest, ReopenAfterRename) {
  std::unique_ptr<NdjsonSink> sink = OpenSink();
  ASSERT_NE(sink, nullptr);
  ASSERT_TRUE(sink->Write("before").ok());
  ASSERT_TRUE(sink->Flush().ok());
  const fs::path moved = options_.path + ".1";
  fs::rename(options_.path, moved);
  ASSERT_TRUE(sink->Reopen().ok());
  ASSERT_TRUE(sink->Write("after").ok());
  ASSERT_TRUE(sink->Flush().ok());
  EXPECT_EQ(Lines(moved), std::vector<std::string>{"before"});
  EXPECT_EQ(Lines(options_.path), std::vector<std::string>{"after"});
  EXPECT_EQ(sink->stats().reopens, 1u);
}

TEST_F(NdjsonSinkTest, DeletedFileIsCreatedAgain) {
  std::unique_ptr<NdjsonSink> sink = OpenSink();
  ASSERT_NE(sink, nullptr);
  ASSERT_TRUE(sink->Write("first").ok());
  ASSERT_TRUE(sink->Flush().ok());
  fs::remove(options_.path);
  ASSERT_TRUE(sink->Write("second").ok());
  ASSERT_TRUE(sink->Flush().ok());
  EXPECT_EQ(Lines(options_.path), std::vector<std::string>{"second"});
  EXPECT_EQ(sink->stats().reopens, 1u);
}

TEST_F(NdjsonSinkTest, RemovedDirectoryKeepsLinesUntilItReturns) {
  const fs::path directory = fs::path(root_) / "out";
  fs::create_directories(directory);
  options_.path = (directory / "alerts.ndjson").string();
  options_.retry_interval = std::chrono::milliseconds(0);
  std::unique_ptr<NdjsonSink> sink = OpenSink();
  ASSERT_NE(sink, nullptr);
  ASSERT_TRUE(sink->Write("lost with the directory").ok());
  ASSERT_TRUE(sink->Flush().ok());

  fs::remove_all(directory);
  ASSERT_TRUE(sink->Write("kept").ok());
  absl::Status status = sink->Flush();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(status.message().find(options_.path), absl::string_view::npos);
  EXPECT_EQ(sink->stats().write_errors, 1u);
  EXPECT_EQ(sink->stats().lines_buffered, 1u);
  ASSERT_TRUE(sink->Write("also kept").ok());

  fs::create_directories(directory);
  sink->Tick();
  EXPECT_EQ(Lines(options_.path), (std::vector<std::string>{"kept", "also kept"}));
  EXPECT_EQ(sink->stats().lines_buffered, 0u);
  EXPECT_EQ(sink->stats().lines_written, 3u);
}

TEST_F(NdjsonSinkTest, MemoryBoundRejectsAndCounts) {
  const fs::path directory = fs::path(root_) / "out";
  fs::create_directories(directory);
  options_.path = (directory / "alerts.ndjson").string();
  options_.max_buffer_bytes = 100;
  std::unique_ptr<NdjsonSink> sink = OpenSink();
  ASSERT_NE(sink, nullptr);
  fs::remove_all(directory);
  const std::string line(39, 'x');
  EXPECT_TRUE(sink->Write(line).ok());
  EXPECT_TRUE(sink->Write(line).ok());
  absl::Status status = sink->Write(line);
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(sink->stats().lines_rejected, 1u);
  EXPECT_EQ(sink->stats().lines_buffered, 2u);
}

TEST_F(NdjsonSinkTest, FsyncPoliciesWrite) {
  for (FsyncPolicy policy : {FsyncPolicy::kBatch, FsyncPolicy::kInterval}) {
    options_.fsync = policy;
    options_.fsync_interval = std::chrono::milliseconds(0);
    options_.path = (fs::path(root_) / ("fsync-" + std::to_string(int(policy)))).string();
    std::unique_ptr<NdjsonSink> sink = OpenSink();
    ASSERT_NE(sink, nullptr);
    ASSERT_TRUE(sink->Write("durable").ok());
    ASSERT_TRUE(sink->Flush().ok());
    sink->Tick();
    EXPECT_EQ(Lines(options_.path), std::vector<std::string>{"durable"});
    EXPECT_EQ(sink->stats().write_errors, 0u);
  }
}

}  // namespace
}  // namespace sensor::ctl
