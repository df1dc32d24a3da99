#include "runtime/isolation.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace tide::runtime {

namespace {

#if defined(__x86_64__)
constexpr uint32_t kAuditArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr uint32_t kAuditArch = AUDIT_ARCH_AARCH64;
#else
#error "tide's seccomp filter knows x86_64 and aarch64 only"
#endif

// Every folder from the first component down to path itself ("/a", "/a/b", "/a/b/c").
std::vector<std::string> prefixes(const std::string& path) {
  std::vector<std::string> out;
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      if (i > 1) {
        out.push_back(path.substr(0, i));
      }
    }
  }
  return out;
}

// Raw clone without a new stack: fork without glibc's atfork handlers, which may take locks
// that another thread of the server held at the first fork.
pid_t rawFork() {
  return pid_t(syscall(SYS_clone, SIGCHLD, nullptr, nullptr, nullptr, nullptr));
}

bool writeAll(const char* path, const char* data) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  size_t len = strlen(data);
  ssize_t n = write(fd, data, len);
  int err = errno;
  close(fd);
  errno = err;
  return n == ssize_t(len);
}

// Creates each folder in order; existing ones are fine. Returns false with errno set.
bool makeFolders(const std::vector<std::string>& dirs) {
  for (const std::string& d : dirs) {
    if (mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) {
      return false;
    }
  }
  return true;
}

bool isDir(const char* path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int setReadOnly(const char* path, unsigned flags) {
  mount_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID;
  return mount_setattr(AT_FDCWD, path, flags, &attr, sizeof attr);
}

// The app's side: ids, capabilities, no_new_privs, seccomp. As root the app keeps one
// capability, CAP_NET_BIND_SERVICE (ambient, so that it survives exec as a non-root uid): apps
// listen on ports below 1024 (the base image on 80), and the bind program (address_guard.h)
// keeps them to their own address. In a user namespace it would not help (the host's network
// namespace is not the user namespace's) and is dropped too.
void dropPrivileges(const IsolationPlan& plan, int reportFd, ChildReport report) {
  const bool keepBind = !plan.spec.userNamespace;
  // The bounding set first: dropping needs CAP_SETPCAP, which the id change takes away.
  for (int cap = 0; cap < 64; ++cap) {
    if (keepBind && cap == CAP_NET_BIND_SERVICE) {
      continue;
    }
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
      if (errno == EINVAL) {
        break; // past the last capability this kernel knows
      }
      report(reportFd, IsoCaps, cap, errno);
    }
  }
  if (keepBind && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) {
    report(reportFd, IsoCaps, 65, errno);
  }
  if (!plan.spec.userNamespace) {
    // Raw system calls: glibc's wrappers would try to change every thread of the server.
    if (syscall(SYS_setgroups, 0, nullptr) != 0) {
      report(reportFd, IsoIds, 0, errno);
    }
    if (syscall(SYS_setresgid, plan.spec.gid, plan.spec.gid, plan.spec.gid) != 0) {
      report(reportFd, IsoIds, 1, errno);
    }
    if (syscall(SYS_setresuid, plan.spec.uid, plan.spec.uid, plan.spec.uid) != 0) {
      report(reportFd, IsoIds, 2, errno);
    }
  }
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  __user_cap_header_struct header;
  memset(&header, 0, sizeof header);
  header.version = _LINUX_CAPABILITY_VERSION_3;
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
  memset(data, 0, sizeof data);
  if (keepBind) {
    const uint32_t bind = 1u << CAP_NET_BIND_SERVICE; // in the first 32-bit word
    data[0].effective = data[0].permitted = data[0].inheritable = bind;
  }
  if (syscall(SYS_capset, &header, data) != 0) {
    report(reportFd, IsoCaps, 64, errno);
  }
  if (keepBind) {
    prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0) != 0) {
      report(reportFd, IsoCaps, 66, errno);
    }
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    report(reportFd, IsoNoNewPrivs, 0, errno);
  }
  sock_fprog program;
  program.len = static_cast<unsigned short>(plan.seccomp.size());
  program.filter = const_cast<sock_filter*>(plan.seccomp.data());
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program, 0, 0) != 0) {
    report(reportFd, IsoSeccomp, 0, errno);
  }
}

// Ends the calling process the way `status` (a wait status) says another one ended: the same
// exit code, or killed by the same signal (without a core file of the server's memory).
[[noreturn]] void endLike(int status) {
  if (WIFEXITED(status)) {
    _exit(WEXITSTATUS(status));
  }
  int sig = WIFSIGNALED(status) ? WTERMSIG(status) : SIGKILL;
  rlimit noCore{0, 0};
  setrlimit(RLIMIT_CORE, &noCore);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  // Ignoring discards what is pending (a SIGTERM the server sent to the whole group).
  sa.sa_handler = SIG_IGN;
  for (int s = 1; s < NSIG; ++s) {
    if (s != SIGKILL && s != SIGSTOP) {
      sigaction(s, &sa, nullptr);
    }
  }
  sa.sa_handler = SIG_DFL;
  sigaction(sig, &sa, nullptr);
  kill(getpid(), sig);
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, sig);
  sigprocmask(SIG_UNBLOCK, &one, nullptr);
  _exit(128 + sig); // a signal whose default is to be ignored
}

} // namespace

std::vector<sock_filter> instanceSeccompFilter() {
  constexpr uint32_t kDeny = SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA);
  constexpr uint32_t kNoSys = SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA);
  const int denied[] = {
      __NR_mount,
      __NR_umount2,
      __NR_pivot_root,
      __NR_chroot,
      __NR_ptrace,
      __NR_process_vm_readv,
      __NR_process_vm_writev,
      __NR_kexec_load,
      __NR_kexec_file_load,
      __NR_init_module,
      __NR_finit_module,
      __NR_delete_module,
      __NR_bpf,
      __NR_perf_event_open,
      __NR_open_by_handle_at,
      __NR_name_to_handle_at,
      __NR_add_key,
      __NR_keyctl,
      __NR_request_key,
      __NR_swapon,
      __NR_swapoff,
      __NR_reboot,
      __NR_setns,
      __NR_clock_settime,
      __NR_clock_adjtime,
      __NR_settimeofday,
      __NR_adjtimex,
      __NR_acct,
      __NR_quotactl,
      __NR_syslog,
      __NR_vhangup,
      __NR_fsopen,
      __NR_fsconfig,
      __NR_fsmount,
      __NR_fspick,
      __NR_open_tree,
      __NR_move_mount,
      __NR_mount_setattr,
      __NR_userfaultfd,
#ifdef __NR_iopl
      __NR_iopl,
#endif
#ifdef __NR_ioperm
      __NR_ioperm,
#endif
#ifdef __NR_uselib
      __NR_uselib,
#endif
#ifdef __NR_lookup_dcookie
      __NR_lookup_dcookie,
#endif
  };
  std::vector<sock_filter> f;
  // A foreign architecture (i386 via int 0x80 on x86_64) would use other numbers: kill.
  f.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)));
  f.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kAuditArch, 1, 0));
  f.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
  f.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)));
#if defined(__x86_64__)
  // The x32 ABI shares the architecture value and sets bit 30 in the number.
  f.push_back(BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1));
  f.push_back(BPF_STMT(BPF_RET | BPF_K, kDeny));
#endif
  for (int nr : denied) {
    f.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, uint32_t(nr), 0, 1));
    f.push_back(BPF_STMT(BPF_RET | BPF_K, kDeny));
  }
  f.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, uint32_t(__NR_clone3), 0, 1));
  f.push_back(BPF_STMT(BPF_RET | BPF_K, kNoSys));
  // unshare(flags) and clone(flags, ...): no new user namespace (the way to regain
  // capabilities, and the kernel's most exposed surface for an unprivileged process).
  f.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, uint32_t(__NR_unshare), 2, 0));
  f.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, uint32_t(__NR_clone), 1, 0));
  f.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  // The low 32 bits of the first argument (little-endian: at the argument's own offset).
  f.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[0])));
  f.push_back(BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, uint32_t(CLONE_NEWUSER), 0, 1));
  f.push_back(BPF_STMT(BPF_RET | BPF_K, kDeny));
  f.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  return f;
}

IsolationPlan planIsolation(const IsolationSpec& spec) {
  IsolationPlan p;
  p.spec = spec;
  p.hiddenSorted = spec.hiddenPaths;
  std::sort(p.hiddenSorted.begin(), p.hiddenSorted.end());
  p.hiddenSorted.erase(std::unique(p.hiddenSorted.begin(), p.hiddenSorted.end()),
                       p.hiddenSorted.end());
  p.diskPrefixes = prefixes(spec.diskPath);
  if (!spec.userDataPath.empty()) {
    size_t slash = spec.userDataPath.rfind('/');
    p.userDataDirs = prefixes(spec.userDataPath.substr(0, slash));
  }
  p.uidMap = std::to_string(getuid()) + " " + std::to_string(getuid()) + " 1";
  p.gidMap = std::to_string(getgid()) + " " + std::to_string(getgid()) + " 1";
  p.seccomp = instanceSeccompFilter();
  return p;
}

std::string describeIsolationStep(const IsolationPlan& plan, int step, int index) {
  auto at = [](const std::vector<std::string>& v, int i) {
    return size_t(i) < v.size() ? v[size_t(i)] : std::string("?");
  };
  switch (step) {
  case IsoUnshare:
    return "making the instance's namespaces (unshare)";
  case IsoIdMap:
    return "mapping the server's uid and gid in the instance's user namespace";
  case IsoPrivate:
    return "making the instance's mounts private";
  case IsoCloneDisk:
    return "cloning the mount of " + (index == 0 ? plan.spec.diskPath : plan.spec.userDataPath);
  case IsoReadOnly:
    return "making the host's file system read-only for the instance";
  case IsoTmp:
    return "mounting a private tmpfs on " + at(plan.spec.privateTmp, index);
  case IsoHide:
    return "hiding " + at(plan.hiddenSorted, index) + " under a tmpfs";
  case IsoMkdir:
    return "creating the folders on the way to " + plan.spec.diskPath;
  case IsoBindDisk:
    return "mounting " + (index == 0 ? plan.spec.diskPath : plan.spec.userDataPath) +
           " back in the instance's view";
  case IsoSealHidden:
    return "making the tmpfs on " + at(plan.hiddenSorted, index) + " read-only";
  case IsoFork:
    return "starting the instance's init or app process";
  case IsoProc:
    return "mounting /proc for the instance's PID namespace";
  case IsoIds:
    return "switching to uid " + std::to_string(plan.spec.uid) + " and gid " +
           std::to_string(plan.spec.gid);
  case IsoCaps:
    return "dropping capabilities";
  case IsoNoNewPrivs:
    return "setting no_new_privs";
  case IsoSeccomp:
    return "installing the seccomp filter";
  default:
    return "isolating the instance (step " + std::to_string(step) + ")";
  }
}

void enterIsolation(const IsolationPlan& plan, int reportFd, ChildReport report) {
  const IsolationSpec& spec = plan.spec;
  // Folders made below get 0755 whatever the server's umask; the app gets the server's back.
  mode_t oldMask = umask(022);
  int flags = CLONE_NEWNS | CLONE_NEWPID | (spec.userNamespace ? CLONE_NEWUSER : 0);
  if (unshare(flags) != 0) {
    report(reportFd, IsoUnshare, 0, errno);
  }
  if (spec.userNamespace) {
    if (!writeAll("/proc/self/setgroups", "deny") ||
        !writeAll("/proc/self/uid_map", plan.uidMap.c_str()) ||
        !writeAll("/proc/self/gid_map", plan.gidMap.c_str())) {
      report(reportFd, IsoIdMap, 0, errno);
    }
  }
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    report(reportFd, IsoPrivate, 0, errno);
  }
  // Detached copies of the disk and the user data, taken before the paths get hidden.
  int disk = open_tree(AT_FDCWD, spec.diskPath.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (disk < 0) {
    report(reportFd, IsoCloneDisk, 0, errno);
  }
  int userData = -1;
  if (!spec.userDataPath.empty()) {
    userData = open_tree(AT_FDCWD, spec.userDataPath.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (userData < 0) {
      report(reportFd, IsoCloneDisk, 1, errno);
    }
  }
  if (setReadOnly("/", AT_RECURSIVE) != 0) {
    report(reportFd, IsoReadOnly, 0, errno);
  }
  for (size_t i = 0; i < spec.privateTmp.size(); ++i) {
    const char* dir = spec.privateTmp[i].c_str();
    if (isDir(dir) && mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") != 0) {
      report(reportFd, IsoTmp, int(i), errno);
    }
  }
  for (size_t i = 0; i < plan.hiddenSorted.size(); ++i) {
    const std::string& dir = plan.hiddenSorted[i];
    // Folders inside a private /tmp (or inside another hidden folder) are made first.
    for (size_t j = 1; j <= dir.size(); ++j) {
      if (j == dir.size() || dir[j] == '/') {
        char partial[4096];
        if (j >= sizeof partial) {
          report(reportFd, IsoHide, int(i), ENAMETOOLONG);
        }
        memcpy(partial, dir.c_str(), j);
        partial[j] = '\0';
        if (mkdir(partial, 0755) != 0 && errno != EEXIST) {
          report(reportFd, IsoHide, int(i), errno);
        }
      }
    }
    if (mount("tmpfs", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              "mode=0755,size=1m,nr_inodes=1024") != 0) {
      report(reportFd, IsoHide, int(i), errno);
    }
  }
  if (!makeFolders(plan.diskPrefixes)) {
    report(reportFd, IsoMkdir, 0, errno);
  }
  if (move_mount(disk, "", AT_FDCWD, spec.diskPath.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0) {
    report(reportFd, IsoBindDisk, 0, errno);
  }
  close(disk);
  if (userData >= 0) {
    if (!makeFolders(plan.userDataDirs)) {
      report(reportFd, IsoMkdir, 1, errno);
    }
    int fd = open(spec.userDataPath.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
      report(reportFd, IsoMkdir, 1, errno);
    }
    close(fd);
    if (move_mount(userData, "", AT_FDCWD, spec.userDataPath.c_str(), MOVE_MOUNT_F_EMPTY_PATH) !=
        0) {
      report(reportFd, IsoBindDisk, 1, errno);
    }
    close(userData);
    if (setReadOnly(spec.userDataPath.c_str(), 0) != 0) {
      report(reportFd, IsoBindDisk, 1, errno);
    }
  }
  for (size_t i = 0; i < plan.hiddenSorted.size(); ++i) {
    if (setReadOnly(plan.hiddenSorted[i].c_str(), 0) != 0) {
      report(reportFd, IsoSealHidden, int(i), errno);
    }
  }

  // The init: pid 1 of the new PID namespace.
  int statusPipe[2];
  if (pipe2(statusPipe, O_CLOEXEC) != 0) {
    report(reportFd, IsoFork, 0, errno);
  }
  pid_t init = rawFork();
  if (init < 0) {
    report(reportFd, IsoFork, 0, errno);
  }
  if (init == 0) {
    close(statusPipe[0]);
    // The leader killed (SIGKILL to it alone) takes the whole namespace with it.
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
      report(reportFd, IsoProc, 0, errno);
    }
    pid_t app = rawFork();
    if (app < 0) {
      report(reportFd, IsoFork, 1, errno);
    }
    if (app == 0) {
      close(statusPipe[1]);
      umask(oldMask);
      dropPrivileges(plan, reportFd, report);
      return; // the app: back to spawnProcess for chdir and exec
    }
    close(reportFd);
    // Every signal stays blocked: the kernel drops those without a handler that reach a
    // namespace's init (only SIGKILL from outside gets through), so the server's SIGTERM to
    // the process group is for the app alone.
    for (;;) {
      int status = 0;
      pid_t r = waitpid(-1, &status, 0);
      if (r == app) {
        ssize_t n = write(statusPipe[1], &status, sizeof status);
        (void)n;
        _exit(0); // the kernel ends what is left in the namespace
      }
      if (r < 0 && errno != EINTR) {
        _exit(127);
      }
    }
  }
  // The leader: waits for the init and ends like the app.
  close(statusPipe[1]);
  close(reportFd);
  int status = 0;
  while (waitpid(init, &status, 0) < 0) {
    if (errno != EINTR) {
      _exit(127);
    }
  }
  int appStatus = 0;
  if (read(statusPipe[0], &appStatus, sizeof appStatus) == ssize_t(sizeof appStatus)) {
    status = appStatus;
  }
  endLike(status);
}

} // namespace tide::runtime
