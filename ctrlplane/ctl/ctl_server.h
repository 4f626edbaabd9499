// The control socket: a Unix stream socket on which local clients (sensorctl) send one
// JSON request per line and receive one JSON reply per line.
//
// Request: {"command": "NAME", ...arguments}. Reply: {"ok": true, "command": "NAME",
// "result": VALUE} or {"ok": false, "error": "MESSAGE"}. A request line longer than
// max_line_bytes gets an error reply, and then the connection is closed. A line that is
// not a JSON object with a string "command" gets an error reply, and the connection stays
// open.
//
// The server has no thread of its own. Poll() runs on the control loop and never blocks
// (non-blocking sockets, one poll() call with a zero timeout). It keeps a read and a write
// buffer per connection and reads, handles and sends at most a fixed amount per
// connection and call, so a client that sends much or reads nothing delays the loop by
// that amount at most. Commands run inside Poll(), on the control thread, so they may
// read control-thread state.
//
// Access: the socket file is created with mode 0600, and each connection's peer
// credentials (SO_PEERCRED) must name an allowed uid (root and the server's effective uid
// by default); other peers get an error reply and are disconnected.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace sensor::ctl {

using CtlWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// Writes the result of one command as a single JSON value, or returns an error whose
// message the client receives. `request` is the whole request object.
using CtlCommand = std::function<absl::Status(const rapidjson::Value& request, CtlWriter& result)>;

struct CtlServerOptions {
  std::string path;  // Socket file; its directory must exist.
  size_t max_line_bytes = 64 * 1024;
  size_t max_clients = 16;
  // Replies waiting to be sent to one client beyond which the server stops reading that
  // client's requests until the client reads.
  size_t max_pending_output_bytes = 1 << 20;
  // A connection with no complete request for this long is closed.
  std::chrono::seconds idle_timeout{60};
  // Peer uids allowed to connect; empty: root and the server's effective uid.
  std::vector<uid_t> allowed_uids;
};

struct CtlServerStats {
  uint64_t connections = 0;        // Accepted and allowed.
  uint64_t rejected_peer = 0;      // Peer uid not allowed, or credentials unreadable.
  uint64_t rejected_too_many = 0;  // Arrived while max_clients were connected.
  uint64_t requests = 0;           // Complete request lines read.
  uint64_t replies_ok = 0;
  uint64_t invalid_requests = 0;  // Not JSON, not an object, no string "command".
  uint64_t unknown_commands = 0;
  uint64_t failed_commands = 0;  // The command returned an error.
  uint64_t overlong_lines = 0;
  uint64_t closed_idle = 0;
  uint64_t write_errors = 0;  // Connections closed because sending failed.
  size_t clients = 0;         // Connected now.
};

// One client's request and reply bytes, apart from its socket.
struct CtlStream {
  std::string input;   // Bytes received that are not handled yet.
  std::string output;  // Reply bytes not sent yet, from output_sent on.
  size_t output_sent = 0;
  bool close_after_output = false;  // Close once the output is sent.
  std::chrono::steady_clock::time_point last_request;

  size_t PendingOutput() const { return output.size() - output_sent; }
};

// The request protocol without the socket: splits a stream's input into lines, runs the
// command each request names and appends one reply line per request to the output.
// CtlServer runs it for every connection; it reads no socket and keeps no client state.
class CtlRequestHandler {
 public:
  // Counts requests and their outcomes into `stats`, which must outlive the handler.
  CtlRequestHandler(size_t max_line_bytes, size_t max_pending_output_bytes, CtlServerStats& stats)
      : max_line_bytes_(max_line_bytes),
        max_pending_output_bytes_(max_pending_output_bytes),
        stats_(stats) {}

  // Registers a command by name, replacing one of the same name.
  void AddCommand(std::string name, CtlCommand command);

  // Handles the complete lines at the start of stream.input, up to a budget, and erases
  // them from it. A line longer than max_line_bytes gets an error reply and sets
  // close_after_output, and so does an unfinished line that is already too long.
  void HandleLines(CtlStream& stream);

 private:
  void HandleLine(CtlStream& stream, std::string_view line);

  size_t max_line_bytes_;
  size_t max_pending_output_bytes_;
  CtlServerStats& stats_;
  std::map<std::string, CtlCommand, std::less<>> commands_;
};

class CtlServer {
 public:
  // Creates the socket at options.path with mode 0600 and listens. A stale socket file,
  // on which no process accepts connections, is replaced. Any other existing file, or a
  // socket on which another process accepts connections, is an error.
  static absl::StatusOr<std::unique_ptr<CtlServer>> Listen(CtlServerOptions options);
  ~CtlServer();  // Closes every connection and removes the socket file.

  CtlServer(const CtlServer&) = delete;
  CtlServer& operator=(const CtlServer&) = delete;

  // Registers a command by name, replacing one of the same name.
  void AddCommand(std::string name, CtlCommand command);

  // Accepts, reads, runs complete requests and sends replies, as far as it can without
  // blocking. Call from the control loop.
  void Poll();

  const CtlServerStats& stats() const { return stats_; }
  const std::string& path() const { return options_.path; }

 private:
  struct Connection : CtlStream {
    int fd = -1;
    bool peer_done = false;  // The peer shut down its side; nothing more to read.
  };

  explicit CtlServer(CtlServerOptions options)
      : options_(std::move(options)),
        handler_(options_.max_line_bytes, options_.max_pending_output_bytes, stats_) {}
  void AcceptAll();
  bool PeerAllowed(int fd) const;
  // Turns away a new connection with one error reply.
  void Reject(int fd, std::string_view message);
  // Reads what the socket holds, up to a budget; false if the connection must close now.
  bool Receive(Connection& connection);
  // Sends pending output; false if the connection must close now.
  bool Send(Connection& connection);
  size_t PendingOutput(const Connection& connection) const { return connection.PendingOutput(); }

  CtlServerOptions options_;
  int listen_fd_ = -1;
  dev_t socket_device_ = 0;
  ino_t socket_inode_ = 0;
  std::vector<std::unique_ptr<Connection>> connections_;
  CtlServerStats stats_;
  CtlRequestHandler handler_;  // After stats_, which it counts into.
};

}  // namespace sensor::ctl
