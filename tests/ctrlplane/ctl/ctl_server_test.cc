#include "ctrlplane/ctl/ctl_server.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "rapidjson/document.h"

namespace sensor::ctl {
namespace {

using namespace std::chrono_literals;

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/ctl-server-test-XXXXXX";
    path_ = mkdtemp(pattern);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A connected client socket, blocking with a receive timeout.
class Client {
 public:
  explicit Client(const std::string& path) {
    fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, path.data(), path.size());
    connected_ = connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0;
  }
  ~Client() { close(fd_); }

  bool connected() const { return connected_; }

  bool Send(std::string_view bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t count = send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (count <= 0) return false;
      sent += static_cast<size_t>(count);
    }
    return true;
  }

  // Polls the server until `lines` reply lines have arrived or the connection closed.
  std::vector<std::string> Receive(CtlServer& server, size_t lines) {
    std::vector<std::string> received;
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (received.size() < lines && std::chrono::steady_clock::now() < deadline) {
      server.Poll();
      pollfd readable{fd_, POLLIN, 0};
      if (poll(&readable, 1, 1) <= 0) continue;
      char chunk[65536];
      const ssize_t count = recv(fd_, chunk, sizeof(chunk), 0);
      if (count <= 0) {
        closed_ = true;
        break;
      }
      buffer_.append(chunk, static_cast<size_t>(count));
      size_t newline;
      while ((newline = buffer_.find('\n')) != std::string::npos) {
        received.push_back(buffer_.substr(0, newline));
        buffer_.erase(0, newline + 1);
      }
    }
    return received;
  }

  // True once the server has closed the connection (after any pending lines).
  bool ClosedByServer(CtlServer& server) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!closed_ && std::chrono::steady_clock::now() < deadline) {
      server.Poll();
      pollfd readable{fd_, POLLIN, 0};
      if (poll(&readable, 1, 1) <= 0) continue;
      char chunk[4096];
      const ssize_t count = recv(fd_, chunk, sizeof(chunk), 0);
      if (count <= 0) closed_ = true;
    }
    return closed_;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
  std::string buffer_;
};

rapidjson::Document Parse(const std::string& line) {
  rapidjson::Document document;
  document.Parse(line.c_str());
  return document;
}

bool IsOk(const std::string& line) {
  rapidjson::Document reply = Parse(line);
  return reply.IsObject() && reply.HasMember("ok") && reply["ok"].IsTrue();
}

std::string ErrorOf(const std::string& line) {
  rapidjson::Document reply = Parse(line);
  if (!reply.IsObject() || !reply.HasMember("error") || !reply["error"].IsString()) return "";
  return reply["error"].GetString();
}

class CtlServerTest : public ::testing::Test {
 protected:
  void SetUp() override { Listen({}); }

  void Listen(CtlServerOptions options) {
    server_.reset();
    options.path = dir_.File("ctl.sock");
    absl::StatusOr<std::unique_ptr<CtlServer>> server = CtlServer::Listen(std::move(options));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    server_->AddCommand("echo", [](const rapidjson::Value& request, CtlWriter& writer) {
      writer.StartObject();
      writer.Key("value");
      writer.String(request.HasMember("value") && request["value"].IsString()
                        ? request["value"].GetString()
                        : "");
      writer.EndObject();
      return absl::OkStatus();
    });
    server_->AddCommand("fail", [](const rapidjson::Value&, CtlWriter&) {
      return absl::FailedPreconditionError("the command failed on purpose");
    });
  }

  TempDir dir_;
  std::unique_ptr<CtlServer> server_;
};

TEST_F(CtlServerTest, SocketFileIsMode0600) {
  struct stat info;
  ASSERT_EQ(lstat(dir_.File("ctl.sock").c_str(), &info), 0);
  EXPECT_TRUE(S_ISSOCK(info.st_mode));
  EXPECT_EQ(info.st_mode & 07777, 0600u);
  EXPECT_EQ(info.st_uid, geteuid());
}

TEST_F(CtlServerTest, AnswersOneRequest) {
  Client client(dir_.File("ctl.sock"));
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.Send("{\"command\":\"echo\",\"value\":\"hello\"}\n"));
  std::vector<std::string> replies = client.Receive(*server_, 1);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0], R"({"ok":true,"command":"echo","result":{"value":"hello"}})");
  EXPECT_EQ(server_->stats().replies_ok, 1u);
}

TEST_F(CtlServerTest, RequestSplitAcrossWrites) {
  Client client(dir_.File("ctl.sock"));
  ASSERT_TRUE(client.Send("{\"command\":\"ec"));
  server_->Poll();
  ASSERT_TRUE(client.Send("ho\",\"value\":\"split\"}"));
  server_->Poll();
  EXPECT_EQ(server_->stats().requests, 0u);
  ASSERT_TRUE(client.Send("\r\n"));
  std::vector<std::string> replies = client.Receive(*server_, 1);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0], R"({"ok":true,"command":"echo","result":{"value":"split"}})");
}

TEST_F(CtlServerTest, SeveralRequestsInOneWrite) {
  Client client(dir_.File("ctl.sock"));
  std::string batch;
  for (int i = 0; i < 200; ++i) {
    batch += "{\"command\":\"echo\",\"value\":\"" + std::to_string(i) + "\"}\n";
  }
  ASSERT_TRUE(client.Send(batch));
  std::vector<std::string> replies = client.Receive(*server_, 200);
  ASSERT_EQ(replies.size(), 200u);
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(Parse(replies[i])["result"]["value"].GetString(), std::to_string(i));
  }
}

TEST_F(CtlServerTest, BlankLinesAreIgnored) {
  Client client(dir_.File("ctl.sock"));
  ASSERT_TRUE(client.Send("\n  \n{\"command\":\"echo\"}\n"));
  std::vector<std::string> replies = client.Receive(*server_, 1);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_TRUE(IsOk(replies[0]));
  EXPECT_EQ(server_->stats().requests, 1u);
}

TEST_F(CtlServerTest, GarbageGetsErrorAndConnectionStays) {
  Client client(dir_.File("ctl.sock"));
  ASSERT_TRUE(client.Send("this is not json\n"));
  ASSERT_TRUE(client.Send(std::string("\x01\xff\xfe{\x00]\n", 7)));
  ASSERT_TRUE(client.Send("[1,2,3]\n"));
  ASSERT_TRUE(client.Send("{\"command\":42}\n"));
  ASSERT_TRUE(client.Send("{\"no_command\":true}\n"));
  ASSERT_TRUE(client.Send("{\"command\":\"echo\",\"value\":\"still here\"}\n"));
  std::vector<std::string> replies = client.Receive(*server_, 6);
  ASSERT_EQ(replies.size(), 6u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_FALSE(IsOk(replies[i])) << replies[i];
    EXPECT_NE(ErrorOf(replies[i]).find("invalid request"), std::string::npos) << replies[i];
  }
  EXPECT_NE(ErrorOf(replies[0]).find("at byte 1"), std::string::npos) << replies[0];
  EXPECT_NE(ErrorOf(replies[2]).find("not an object"), std::string::npos);
  EXPECT_EQ(replies[5], R"({"ok":true,"command":"echo","result":{"value":"still here"}})");
  EXPECT_EQ(server_->stats().invalid_requests, 5u);
}

TEST_F(CtlServerTest, UnknownCommandListsKnownOnes) {
  Client client(dir_.File("ctl.sock"));
  ASSERT_TRUE(client.Send("{\"command\":\"restart\"}\n"));
  std::vector<std::string> replies = client.Receive(*server_, 1);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(ErrorOf(replies[0]), "unknown command \"restart\"; the commands are echo, fail");
  EXPECT_EQ(server_->stats().unknown_commands, 1u);
}

TEST_F(CtlServerTest, CommandErrorReachesClient) {
  Client client(dir_.File("ctl.sock"));
  ASSERT_TRUE(client.Send("{\"command\":\"fail\"}\n"));
  std::vector<std::string> replies = client.Receive(*server_, 1);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0], R"({"ok":false,"error":"the command failed on purpose"})");
  EXPECT_EQ(server_->stats().failed_commands, 1u);
}

TEST_F(CtlServerTest, OverlongLineWithoutNewlineClosesConnection) {
  Client client(dir_.File("ctl.sock"));
  ASSERT_TRUE(client.Send(std::string(64 * 1024 + 1, 'x')));
  std::vector<std::string> replies = client.Receive(*server_, 1);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(ErrorOf(replies[0]), "request line longer than 65536 bytes; closing the connection");
  EXPECT_TRUE(client.ClosedByServer(*server_));
  EXPECT_EQ(server_->stats().overlong_lines, 1u);
}

TEST_F(CtlServerTest, OverlongCompleteLineClosesConnection) {
  Client client(dir_.File("ctl.sock"));
  std::string line = "{\"command\":\"echo\",\"value\":\"" + std::string(70000, 'y') + "\"}\n";
  line += "{\"command\":\"echo\"}\n";
  ASSERT_TRUE(client.Send(line));
  std::vector<std::string> replies = client.Receive(*server_, 2);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_NE(ErrorOf(replies[0]).find("longer than 65536 bytes"), std::string::npos);
  EXPECT_TRUE(client.ClosedByServer(*server_));
}

TEST_F(CtlServerTest, LineOfExactlyTheLimitIsAccepted) {
  CtlServerOptions options;
  options.max_line_bytes = 100;
  Listen(options);
  Client client(dir_.File("ctl.sock"));
  std::string line = "{\"command\":\"echo\",\"value\":\"";
  line += std::string(100 - line.size() - 2, 'z') + "\"}";
  ASSERT_EQ(line.size(), 100u);
  ASSERT_TRUE(client.Send(line + "\n"));
  std::vector<std::string> replies = client.Receive(*server_, 1);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_TRUE(IsOk(replies[0])) << replies[0];
}

TEST_F(CtlServerTest, TooManyClientsAreTurnedAway) {
  CtlServerOptions options;
  options.max_clients = 2;
  Listen(options);
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 5; ++i) {
    clients.push_back(std::make_unique<Client>(dir_.File("ctl.sock")));
    ASSERT_TRUE(clients.back()->connected());
  }
  server_->Poll();
  int served = 0;
  int turned_away = 0;
  for (auto& client : clients) {
    client->Send("{\"command\":\"echo\"}\n");
    std::vector<std::string> replies = client->Receive(*server_, 1);
    ASSERT_EQ(replies.size(), 1u);
    if (IsOk(replies[0])) {
      ++served;
    } else if (ErrorOf(replies[0]).find("too many control connections") != std::string::npos) {
      ++turned_away;
    }
  }
  EXPECT_EQ(served, 2);
  EXPECT_EQ(turned_away, 3);
  EXPECT_EQ(server_->stats().rejected_too_many, 3u);
  EXPECT_EQ(server_->stats().clients, 2u);
}

TEST_F(CtlServerTest, PeerWithOtherUidIsRejected) {
  CtlServerOptions options;
  // A uid that is neither ours nor root's, so this process is not allowed.
  options.allowed_uids = {geteuid() + 12345};
  Listen(options);
  Client client(dir_.File("ctl.sock"));
  ASSERT_TRUE(client.connected());
  std::vector<std::string> replies = client.Receive(*server_, 1);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_NE(ErrorOf(replies[0]).find("permission denied"), std::string::npos);
  EXPECT_TRUE(client.ClosedByServer(*server_));
  EXPECT_EQ(server_->stats().rejected_peer, 1u);
  EXPECT_EQ(server_->stats().connections, 0u);
}

TEST_F(CtlServerTest, ClientThatDoesNotReadStopsBeingRead) {
  CtlServerOptions options;
  options.max_pending_output_bytes = 4096;
  Listen(options);
  const std::string big(100000, 'b');
  server_->AddCommand("big", [&big](const rapidjson::Value&, CtlWriter& writer) {
    writer.String(big.c_str());
    return absl::OkStatus();
  });
  Client client(dir_.File("ctl.sock"));
  std::string batch;
  for (int i = 0; i < 100; ++i) batch += "{\"command\":\"big\"}\n";
  ASSERT_TRUE(client.Send(batch));
  // 100 replies of 100 kB are far more than the socket buffers hold: the server must
  // neither block nor queue them all while the client reads nothing.
  for (int round = 0; round < 20; ++round) {
    const auto start = std::chrono::steady_clock::now();
    server_->Poll();
    EXPECT_LT(std::chrono::steady_clock::now() - start, 100ms);
  }
  EXPECT_LT(server_->stats().requests, 20u);
  // Reading the replies lets the server go on.
  std::vector<std::string> replies = client.Receive(*server_, 100);
  EXPECT_EQ(replies.size(), 100u);
  EXPECT_EQ(server_->stats().replies_ok, 100u);
}

TEST_F(CtlServerTest, PeerClosingAfterRequestStillGetsHandled) {
  {
    Client client(dir_.File("ctl.sock"));
    ASSERT_TRUE(client.Send("{\"command\":\"echo\"}\n"));
  }
  for (int i = 0; i < 10; ++i) server_->Poll();
  EXPECT_EQ(server_->stats().requests, 1u);
  EXPECT_EQ(server_->stats().clients, 0u);
}

TEST(CtlServerListenTest, ReplacesStaleSocket) {
  TempDir dir;
  const std::string path = dir.File("ctl.sock");
  {
    absl::StatusOr<std::unique_ptr<CtlServer>> first = CtlServer::Listen({.path = path});
    ASSERT_TRUE(first.ok()) << first.status();
    // Leave a socket file behind on which no process accepts, as a crashed sensor would.
    ASSERT_EQ(link(path.c_str(), dir.File("kept").c_str()), 0);
  }
  ASSERT_EQ(rename(dir.File("kept").c_str(), path.c_str()), 0);
  absl::StatusOr<std::unique_ptr<CtlServer>> second = CtlServer::Listen({.path = path});
  EXPECT_TRUE(second.ok()) << second.status();
}

TEST(CtlServerListenTest, RefusesSocketInUse) {
  TempDir dir;
  const std::string path = dir.File("ctl.sock");
  absl::StatusOr<std::unique_ptr<CtlServer>> first = CtlServer::Listen({.path = path});
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<std::unique_ptr<CtlServer>> second = CtlServer::Listen({.path = path});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(second.status().message().find(path), absl::string_view::npos);
}

TEST(CtlServerListenTest, RefusesRegularFile) {
  TempDir dir;
  const std::string path = dir.File("ctl.sock");
  std::ofstream(path) << "not a socket";
  absl::StatusOr<std::unique_ptr<CtlServer>> server = CtlServer::Listen({.path = path});
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.status().message().find("exists and is not a socket"), absl::string_view::npos);
  std::ifstream kept(path);
  std::string content;
  std::getline(kept, content);
  EXPECT_EQ(content, "not a socket");
}

TEST(CtlServerListenTest, RemovesItsSocketOnExit) {
  TempDir dir;
  const std::string path = dir.File("ctl.sock");
  {
    absl::StatusOr<std::unique_ptr<CtlServer>> server = CtlServer::Listen({.path = path});
    ASSERT_TRUE(server.ok()) << server.status();
    EXPECT_TRUE(std::filesystem::exists(path));
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(CtlServerListenTest, RejectsOverlongPath) {
  absl::StatusOr<std::unique_ptr<CtlServer>> server =
      CtlServer::Listen({.path = "/tmp/" + std::string(200, 'p')});
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sensor::ctl
