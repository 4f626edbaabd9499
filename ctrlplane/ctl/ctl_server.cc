#include "ctrlplane/ctl/ctl_server.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "ctrlplane/absl_bridge.h"
#include "ctrlplane/log.h"
#include "rapidjson/error/en.h"

namespace sensor::ctl {
namespace {

constexpr size_t kReceiveChunk = 16 * 1024;
// Per connection and Poll(): bytes read and lines handled, so that one busy client
// cannot hold the control loop.
constexpr size_t kReceiveBudget = 4 * kReceiveChunk;
constexpr int kLinesPerPoll = 64;
constexpr int kAcceptsPerPoll = 64;
constexpr size_t kCommandNameShown = 64;

std::string ErrnoText(int error) { return std::strerror(error); }

std::string ErrorLine(std::string_view message) {
  rapidjson::StringBuffer buffer;
  CtlWriter writer(buffer);
  writer.StartObject();
  writer.Key("ok");
  writer.Bool(false);
  writer.Key("error");
  writer.String(message.data(), static_cast<rapidjson::SizeType>(message.size()));
  writer.EndObject();
  return absl::StrCat(absl::string_view(buffer.GetString(), buffer.GetSize()), "\n");
}

void QueueError(CtlStream& stream, std::string_view message) {
  stream.output.append(ErrorLine(message));
}

absl::Status FillAddress(const std::string& path, sockaddr_un& address) {
  std::memset(&address, 0, sizeof(address));
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(address.sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat("invalid control socket path '", path,
                                                   "': it must be 1 to ",
                                                   sizeof(address.sun_path) - 1, " bytes long"));
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  return absl::OkStatus();
}

// Removes a stale socket file, one on which no process accepts connections any more. Any
// other file, and a socket in use, is an error.
absl::Status RemoveStaleSocket(const std::string& path, const sockaddr_un& address) {
  struct stat existing;
  if (lstat(path.c_str(), &existing) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return absl::FailedPreconditionError(
        absl::StrCat("cannot check control socket path ", path, ": ", ErrnoText(errno)));
  }
  if (!S_ISSOCK(existing.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("control socket path ", path,
                     " exists and is not a socket; remove it or choose another --ctl-socket"));
  }

  const int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (probe < 0) {
    return absl::InternalError(absl::StrCat("cannot create a socket: ", ErrnoText(errno)));
  }
  const int connected =
      connect(probe, reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  const int connect_error = errno;
  close(probe);

  if (connected == 0) {
    return absl::AlreadyExistsError(
        absl::StrCat("another process accepts connections on control socket ", path,
                     "; stop it or choose another --ctl-socket"));
  }
  if (connect_error != ECONNREFUSED) {
    return absl::FailedPreconditionError(absl::StrCat("cannot check whether control socket ", path,
                                                      " is in use: ", ErrnoText(connect_error)));
  }

  if (unlink(path.c_str()) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot remove stale control socket ", path, ": ", ErrnoText(errno)));
  }
  LogInfo("ctl", "event=stale_socket_removed path=\"{}\"", path);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<CtlServer>> CtlServer::Listen(CtlServerOptions options) {
  sockaddr_un address;
  if (absl::Status status = FillAddress(options.path, address); !status.ok()) return status;
  if (absl::Status status = RemoveStaleSocket(options.path, address); !status.ok()) {
    return status;
  }
  if (options.allowed_uids.empty()) options.allowed_uids = {0, geteuid()};

  std::unique_ptr<CtlServer> server(new CtlServer(std::move(options)));
  const std::string& path = server->options_.path;
  server->listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (server->listen_fd_ < 0) {
    return absl::InternalError(absl::StrCat("cannot create a socket: ", ErrnoText(errno)));
  }
  // bind() creates the file with the process umask applied, so the umask decides who may
  // connect before any chmod could run. umask is process-wide, so callers create the
  // server before they start threads that create files.
  const mode_t previous_umask = umask(0177);
  const int bound =
      bind(server->listen_fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  const int bind_error = errno;
  umask(previous_umask);
  if (bound != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create control socket ", path, ": ", ErrnoText(bind_error)));
  }
  struct stat created;
  if (lstat(path.c_str(), &created) != 0 || !S_ISSOCK(created.st_mode) ||
      (created.st_mode & 07777) != 0600 || created.st_uid != geteuid()) {
    unlink(path.c_str());
    return absl::FailedPreconditionError(absl::StrCat(
        "control socket ", path, " was not created as a socket of mode 0600 owned by uid ",
        geteuid(), "; check the directory's permissions and ACLs"));
  }
  server->socket_device_ = created.st_dev;
  server->socket_inode_ = created.st_ino;
  if (listen(server->listen_fd_, SOMAXCONN) != 0) {
    return absl::InternalError(
        absl::StrCat("cannot listen on control socket ", path, ": ", ErrnoText(errno)));
  }
  LogInfo("ctl", "event=listening path=\"{}\"", path);
  return server;
}

CtlServer::~CtlServer() {
  for (const auto& connection : connections_) close(connection->fd);
  if (listen_fd_ >= 0) close(listen_fd_);
  // Remove the file only if it is still ours, not one a newer process put in its place.
  struct stat current;
  if (socket_inode_ != 0 && lstat(options_.path.c_str(), &current) == 0 &&
      current.st_dev == socket_device_ && current.st_ino == socket_inode_) {
    unlink(options_.path.c_str());
  }
}

void CtlServer::AddCommand(std::string name, CtlCommand command) {
  handler_.AddCommand(std::move(name), std::move(command));
}

bool CtlServer::PeerAllowed(int fd) const {
  ucred credentials;
  socklen_t length = sizeof(credentials);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) return false;
  return std::find(options_.allowed_uids.begin(), options_.allowed_uids.end(), credentials.uid) !=
         options_.allowed_uids.end();
}

void CtlServer::Reject(int fd, std::string_view message) {
  // One non-blocking attempt; a peer that cannot take a short line loses it.
  const std::string line = ErrorLine(message);
  [[maybe_unused]] ssize_t ignored =
      send(fd, line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  close(fd);
}

void CtlServer::AcceptAll() {
  for (int i = 0; i < kAcceptsPerPoll; ++i) {
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED) {
        LogWarn("ctl", "event=accept_failed path=\"{}\" error=\"{}\"", options_.path,
                ErrnoText(errno));
      }
      return;
    }
    if (!PeerAllowed(fd)) {
      ++stats_.rejected_peer;
      Reject(fd,
             "permission denied: the control socket accepts only root and the user the "
             "sensor runs as");
      continue;
    }
    if (connections_.size() >= options_.max_clients) {
      ++stats_.rejected_too_many;
      Reject(fd, absl::StrCat("too many control connections (at most ", options_.max_clients,
                              "); try again later"));
      continue;
    }
    ++stats_.connections;
    auto connection = std::make_unique<Connection>();
    connection->fd = fd;
    connection->last_request = std::chrono::steady_clock::now();
    connections_.push_back(std::move(connection));
  }
}

void CtlServer::Poll() {
  std::vector<pollfd> fds;
  fds.reserve(connections_.size() + 1);
  fds.push_back({listen_fd_, POLLIN, 0});
  for (const auto& connection : connections_) {
    short events = 0;
    const bool can_read = !connection->peer_done && !connection->close_after_output &&
                          connection->input.size() <= options_.max_line_bytes &&
                          PendingOutput(*connection) < options_.max_pending_output_bytes;
    if (can_read) events |= POLLIN;
    if (PendingOutput(*connection) > 0) events |= POLLOUT;
    fds.push_back({connection->fd, events, 0});
  }
  if (poll(fds.data(), fds.size(), 0) < 0) return;

  const auto now = std::chrono::steady_clock::now();
  std::vector<bool> keep(connections_.size(), true);
  for (size_t i = 0; i < connections_.size(); ++i) {
    Connection& connection = *connections_[i];
    const short revents = fds[i + 1].revents;
    if ((revents & (POLLIN | POLLHUP | POLLERR)) != 0 && (fds[i + 1].events & POLLIN) != 0) {
      if (!Receive(connection)) {
        keep[i] = false;
        continue;
      }
    }
    handler_.HandleLines(connection);
    if (PendingOutput(connection) > 0 && !Send(connection)) {
      keep[i] = false;
      continue;
    }
    const bool finished =
        connection.close_after_output ||
        (connection.peer_done && connection.input.find('\n') == std::string::npos);
    if (PendingOutput(connection) == 0 && finished) {
      keep[i] = false;
      continue;
    }
    if (now - connection.last_request > options_.idle_timeout) {
      ++stats_.closed_idle;
      keep[i] = false;
    }
  }
  size_t kept = 0;
  for (size_t i = 0; i < connections_.size(); ++i) {
    if (keep[i]) {
      connections_[kept++] = std::move(connections_[i]);
    } else {
      close(connections_[i]->fd);
    }
  }
  connections_.resize(kept);

  if ((fds[0].revents & POLLIN) != 0) AcceptAll();
  stats_.clients = connections_.size();
}

bool CtlServer::Receive(Connection& connection) {
  char buffer[kReceiveChunk];
  size_t received = 0;
  while (received < kReceiveBudget && connection.input.size() <= options_.max_line_bytes) {
    const ssize_t count = recv(connection.fd, buffer, sizeof(buffer), MSG_DONTWAIT);
    if (count > 0) {
      connection.input.append(buffer, static_cast<size_t>(count));
      received += static_cast<size_t>(count);
      continue;
    }
    if (count == 0) {
      connection.peer_done = true;
      return true;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
    return false;  // ECONNRESET and the like: no peer is left to reply to.
  }
  return true;
}

void CtlRequestHandler::AddCommand(std::string name, CtlCommand command) {
  commands_[std::move(name)] = std::move(command);
}

void CtlRequestHandler::HandleLines(CtlStream& stream) {
  size_t start = 0;
  for (int handled = 0; handled < kLinesPerPoll && !stream.close_after_output &&
                        stream.PendingOutput() < max_pending_output_bytes_;
       ++handled) {
    const size_t newline = stream.input.find('\n', start);
    if (newline == std::string::npos) break;
    std::string_view line(stream.input.data() + start, newline - start);
    start = newline + 1;
    if (line.size() > max_line_bytes_) {
      ++stats_.overlong_lines;
      QueueError(stream, absl::StrCat("request line longer than ", max_line_bytes_,
                                      " bytes; closing the connection"));
      stream.close_after_output = true;
      break;
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    HandleLine(stream, line);
  }
  stream.input.erase(0, start);
  // A line still open that is already too long can only grow.
  if (!stream.close_after_output && stream.input.size() > max_line_bytes_ &&
      stream.input.find('\n') == std::string::npos) {
    ++stats_.overlong_lines;
    QueueError(stream, absl::StrCat("request line longer than ", max_line_bytes_,
                                    " bytes; closing the connection"));
    stream.close_after_output = true;
  }
  if (stream.close_after_output) stream.input.clear();
}

void CtlRequestHandler::HandleLine(CtlStream& stream, std::string_view line) {
  ++stats_.requests;
  stream.last_request = std::chrono::steady_clock::now();
  rapidjson::Document request;
  request.Parse<rapidjson::kParseValidateEncodingFlag>(line.data(), line.size());
  if (request.HasParseError() || !request.IsObject()) {
    ++stats_.invalid_requests;
    const std::string reason =
        request.HasParseError() ? absl::StrCat(rapidjson::GetParseError_En(request.GetParseError()),
                                               " at byte ", request.GetErrorOffset())
                                : std::string("the line is JSON but not an object");
    QueueError(stream, absl::StrCat("invalid request: ", reason,
                                    "; send one JSON object per line, such as "
                                    "{\"command\":\"stats\"}"));
    return;
  }
  auto name = request.FindMember("command");
  if (name == request.MemberEnd() || !name->value.IsString()) {
    ++stats_.invalid_requests;
    QueueError(stream, "invalid request: the object has no string member \"command\"");
    return;
  }
  const std::string_view command_name(name->value.GetString(), name->value.GetStringLength());
  auto command = commands_.find(command_name);
  if (command == commands_.end()) {
    ++stats_.unknown_commands;
    std::string known;
    for (const auto& [known_name, unused] : commands_) {
      absl::StrAppend(&known, known.empty() ? "" : ", ", known_name);
    }
    QueueError(stream,
               absl::StrCat("unknown command \"", ToAbsl(command_name.substr(0, kCommandNameShown)),
                            "\"; the commands are ", known));
    return;
  }

  rapidjson::StringBuffer result;
  CtlWriter result_writer(result);
  if (absl::Status status = command->second(request, result_writer); !status.ok()) {
    ++stats_.failed_commands;
    QueueError(stream, ToStd(status.message()));
    return;
  }
  if (!result_writer.IsComplete()) {
    ++stats_.failed_commands;
    QueueError(stream, absl::StrCat("internal error: command \"", ToAbsl(command_name),
                                    "\" wrote an incomplete result"));
    return;
  }
  rapidjson::StringBuffer reply;
  CtlWriter writer(reply);
  writer.StartObject();
  writer.Key("ok");
  writer.Bool(true);
  writer.Key("command");
  writer.String(command_name.data(), static_cast<rapidjson::SizeType>(command_name.size()));
  writer.Key("result");
  writer.RawValue(result.GetString(), result.GetSize(), rapidjson::kObjectType);
  writer.EndObject();
  stream.output.append(reply.GetString(), reply.GetSize());
  stream.output.push_back('\n');
  ++stats_.replies_ok;
}

bool CtlServer::Send(Connection& connection) {
  while (PendingOutput(connection) > 0) {
    const ssize_t count = send(connection.fd, connection.output.data() + connection.output_sent,
                               PendingOutput(connection), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (count > 0) {
      connection.output_sent += static_cast<size_t>(count);
      continue;
    }
    if (count < 0 && errno == EINTR) continue;
    if (count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    ++stats_.write_errors;
    return false;
  }
  if (connection.output_sent == connection.output.size()) {
    connection.output.clear();
    connection.output_sent = 0;
  } else if (connection.output_sent > (64 << 10)) {
    connection.output.erase(0, connection.output_sent);
    connection.output_sent = 0;
  }
  return true;
}

}  // namespace sensor::ctl
