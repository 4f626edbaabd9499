#include "sensor/privileges.h"

#include <cap-ng.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ctrlplane/log.h"

namespace sensor {
namespace {

struct KeptCapability {
  int value;
  const char* name;
};

// What the control thread of live mode may still need once the port runs, after the
// "Run as non-root" section of DPDK's mlx5 guide (doc/guides/nics/mlx5.rst):
// CAP_NET_ADMIN for device configuration, CAP_NET_RAW for raw Ethernet queues through
// the kernel driver, CAP_IPC_LOCK for pinning DMA memory, CAP_SYS_RAWIO for mlx5 flow
// rules with the transfer attribute and for PMDs that use I/O ports.
// NOTE: which of these a port needs after it has started was not measured on hardware;
// workers only poll descriptor rings and keep none.
constexpr KeptCapability kLiveCapabilities[] = {
    {CAP_NET_ADMIN, "cap_net_admin"},
    {CAP_NET_RAW, "cap_net_raw"},
    {CAP_IPC_LOCK, "cap_ipc_lock"},
    {CAP_SYS_RAWIO, "cap_sys_rawio"},
};

std::string ChangeIdError(int code) {
  // The return values listed in capng_change_id(3) of libcap-ng 0.8.3.
  switch (code) {
    case -1:
      return "libcap-ng was not initialised";
    case -2:
      return "PR_SET_KEEPCAPS failed";
    case -3:
      return "the intermediate capabilities could not be applied";
    case -4:
      return "setresgid failed";
    case -5:
      return "the supplementary groups could not be dropped";
    case -6:
      return "setresuid failed";
    case -7:
      return "clearing PR_SET_KEEPCAPS failed";
    case -8:
      return "the capability bounding set could not be cleared";
    case -9:
      return "CAP_SETPCAP or the ambient capabilities could not be dropped";
    case -10:
      return "initgroups failed";
    default:
      return absl::StrCat("libcap-ng error ", code);
  }
}

}  // namespace

absl::StatusOr<RunAsUser> ResolveRunAsUser(const std::string& name) {
  errno = 0;
  const passwd* entry = getpwnam(name.c_str());
  if (entry == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--user ", name, ": no such user",
        errno != 0 ? absl::StrCat(" (", std::strerror(errno), ")") : std::string(),
        "; create it or name an existing account"));
  }
  if (geteuid() != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--user ", name, " needs the sensor to start as root; start it as root or leave "
        "out --user"));
  }
  return RunAsUser{.name = name, .uid = entry->pw_uid, .gid = entry->pw_gid};
}

absl::Status SetNoNewPrivileges() {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return absl::InternalError(
        absl::StrCat("prctl(PR_SET_NO_NEW_PRIVS) failed: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

std::vector<std::string> KeptCapabilityNames(bool live) {
  std::vector<std::string> names;
  if (!live) return names;
  for (const KeptCapability& capability : kLiveCapabilities) names.push_back(capability.name);
  return names;
}

absl::Status DropPrivileges(const RunAsUser& user, bool live) {
  capng_clear(CAPNG_SELECT_BOTH);
  if (live) {
    for (const KeptCapability& capability : kLiveCapabilities) {
      if (capng_update(CAPNG_ADD, static_cast<capng_type_t>(CAPNG_EFFECTIVE | CAPNG_PERMITTED),
                       capability.value) != 0) {
        return absl::InternalError(absl::StrCat("cannot keep ", capability.name));
      }
    }
  }
  const int changed = capng_change_id(
      static_cast<int>(user.uid), static_cast<int>(user.gid),
      static_cast<capng_flags_t>(CAPNG_INIT_SUPP_GRP | CAPNG_CLEAR_BOUNDING |
                                 CAPNG_CLEAR_AMBIENT));
  if (changed != 0) {
    return absl::InternalError(absl::StrCat("cannot switch to user ", user.name, " (uid ",
                                            user.uid, "): ", ChangeIdError(changed)));
  }
  if (setuid(0) == 0 || geteuid() != user.uid || getegid() != user.gid) {
    return absl::InternalError(
        absl::StrCat("switching to user ", user.name, " did not take effect"));
  }
  if (absl::Status status = SetNoNewPrivileges(); !status.ok()) return status;

  std::vector<std::string> kept = KeptCapabilityNames(live);
  gid_t groups[64];
  const int group_count = getgroups(64, groups);
  std::vector<gid_t> group_list(groups, groups + (group_count > 0 ? group_count : 0));
  ctl::LogInfo("privileges",
               "event=dropped user={} uid={} gid={} groups={} capabilities={} "
               "no_new_privs=1",
               user.name, user.uid, user.gid,
               group_list.empty() ? "none" : absl::StrJoin(group_list, ","),
               kept.empty() ? "none" : absl::StrJoin(kept, ","));
  return absl::OkStatus();
}

}  // namespace sensor
