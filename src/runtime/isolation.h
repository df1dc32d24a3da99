// Instance isolation: what the process tree of an instance can see and do.
//
// A started instance is three processes (see docs/instances.md):
//   leader  the server's child (ProcessRef.pid), in the server's PID namespace: joins the
//           cgroups, makes the new mount (and, without root, user) namespace, then waits for
//           the init and ends the way the app ended (same exit status, or the same signal), so
//           that the server sees the app's exit as before.
//   init    pid 1 of the instance's own PID namespace: mounts its /proc, starts the app and
//           reaps orphans. When it ends the kernel kills everything left in the namespace, so
//           nothing the instance started (setsid included) outlives it.
//   app     pid 2: drops to the instance's own uid/gid (as root) or keeps the server's uid in
//           a user namespace (without root), with every capability dropped (bounding set
//           too), no_new_privs and a seccomp filter; then the usual chdir and exec.
//
// The mount namespace: the host's file system read-only (recursively), a private tmpfs on
// /tmp and /dev/shm, a fresh /proc, empty read-only tmpfs over the hidden paths (the data
// directory, the instances folder, /sys/fs/cgroup, and any folder on the way to the disk that
// the instance's uid could not pass anyway), and the instance's own disk bound back at its
// usual path: the only writable place besides its private /tmp.
//
// The child side runs between fork and exec of a multi-threaded server: only async-signal-safe
// calls there, with everything prepared by planIsolation() beforehand.
#pragma once

#include <linux/filter.h>
#include <sys/types.h>

#include <string>
#include <vector>

namespace tide::runtime {

struct IsolationSpec {
  bool userNamespace = false; // not root: a user namespace mapping the server's own uid/gid
  uid_t uid = 0;              // as root: the instance's own uid (ignored with userNamespace)
  gid_t gid = 0;              // as root: the instance's own gid
  std::string diskPath;       // canonical; bound back at this path, the only writable place
  std::string userDataPath;   // a file bound back (read-only mount, owned by uid); "" for none
  std::vector<std::string> hiddenPaths; // canonical folders covered by an empty read-only tmpfs
  std::vector<std::string> privateTmp = {"/tmp", "/dev/shm"}; // a private tmpfs on each
};

// Everything the child needs, built before fork (plain strings and arrays only).
struct IsolationPlan {
  IsolationSpec spec;
  std::vector<std::string> hiddenSorted; // hiddenPaths, parents before children
  std::vector<std::string> diskPrefixes; // every folder from "/" down to the disk, in order
  std::vector<std::string> userDataDirs; // every folder down to the user data file's folder
  std::string uidMap;                    // "<uid> <uid> 1" (user namespace only)
  std::string gidMap;                    // "<gid> <gid> 1"
  std::vector<sock_filter> seccomp;      // the filter program
};

IsolationPlan planIsolation(const IsolationSpec& spec);

// Steps reported by the child when one fails (ChildFailure.step in process.cc); index is
// the position of the path in the plan's lists where one applies.
enum IsolationStep {
  IsoUnshare = 100, // unshare(CLONE_NEWNS|CLONE_NEWPID[|CLONE_NEWUSER])
  IsoIdMap,         // writing uid_map / gid_map / setgroups (user namespace)
  IsoPrivate,       // making the mount tree private
  IsoCloneDisk,     // open_tree of the disk (index 0) or the user data file (index 1)
  IsoReadOnly,      // the host's tree read-only
  IsoTmp,           // tmpfs on privateTmp[index]
  IsoHide,          // tmpfs on hiddenSorted[index]
  IsoMkdir,         // creating the folders on the way to the disk or the user data
  IsoBindDisk,      // move_mount of the disk (index 0) or user data (index 1)
  IsoSealHidden,    // hiddenSorted[index] made read-only
  IsoFork,          // forking the init or the app
  IsoProc,          // mounting /proc in the new PID namespace
  IsoIds,           // setgroups / setresgid / setresuid
  IsoCaps,          // dropping capabilities (bounding set, capset)
  IsoNoNewPrivs,    // PR_SET_NO_NEW_PRIVS
  IsoSeccomp,       // installing the filter
};

// "mounting a tmpfs on /tmp" for a reported step; used for the error the server returns.
std::string describeIsolationStep(const IsolationPlan& plan, int step, int index);

// Child side, called by the leader (the forked child of spawnProcess) after it joined its
// cgroups and set up its stdio. Returns only in the app process, with every limit in place
// and the signal mask still full; the leader and the init never return (they wait and exit).
// On failure: report(reportFd, step, index, errno), which does not return.
using ChildReport = void (*)(int fd, int step, int index, int err);
void enterIsolation(const IsolationPlan& plan, int reportFd, ChildReport report);

// The seccomp filter alone: denies (EPERM) system calls a web app never needs (mounts,
// ptrace, module and kexec loading, bpf, perf, keyrings, swap, reboot, setns, clock setting,
// new user namespaces...), answers clone3 with ENOSYS (so that libc falls back to clone, whose
// flags the filter can check), and kills on a foreign architecture.
std::vector<sock_filter> instanceSeccompFilter();

} // namespace tide::runtime
