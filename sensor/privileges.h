// Privilege drop of `sensor run` and `sensor replay` (--user): after DPDK, the control
// socket, the output files and the key files are set up as root, the process switches to
// an unprivileged user and keeps only the capabilities its mode still needs.
//
// Main thread only, while no thread but DPDK's own runs sensor code.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace sensor {

// The account named by --user, looked up before anything is opened.
struct RunAsUser {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
};

// Looks `name` up in the user database. InvalidArgument when no such user exists, and
// FailedPrecondition when the process is not root, since only root can switch users.
absl::StatusOr<RunAsUser> ResolveRunAsUser(const std::string& name);

// Sets PR_SET_NO_NEW_PRIVS on the calling thread. Threads created afterwards inherit it,
// so call it before DPDK starts its lcore threads.
absl::Status SetNoNewPrivileges();

// Names of the capabilities that live mode keeps after the drop; replay keeps none.
std::vector<std::string> KeptCapabilityNames(bool live);

// Switches the process to `user`'s uid, gid and supplementary groups, empties the
// capability bounding set and keeps in the calling thread only KeptCapabilityNames(live).
// Other threads that exist already lose every capability with the uid change. Logs one
// line naming the user and what was kept.
absl::Status DropPrivileges(const RunAsUser& user, bool live);

}  // namespace sensor
