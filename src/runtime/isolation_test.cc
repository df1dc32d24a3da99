// Instances isolated (isolation.h): each check runs inside a real instance and prints its
// outcome to the console, which the test reads.
#include "runtime/isolation.h"

#include "common/ids.h"
#include "common/text.h"
#include "runtime/image_store.h"
#include "runtime/local_provider.h"
#include "runtime/process.h"
#include "runtime/test_util.h"

#include <arpa/inet.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

namespace tide::runtime {
namespace {

using testing::readText;
using testing::TempDir;
using testing::waitFor;
using testing::writeFile;
namespace fs = std::filesystem;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// A process running `sleep <seconds>` exactly (the mark a test gives a process to find it).
bool sleepRunning(const std::string& seconds) {
  for (const ProcStat& st : listProcStats()) {
    if (auto cmd = readFile("/proc/" + std::to_string(st.pid) + "/cmdline")) {
      if (*cmd == std::string("sleep\0", 6) + seconds + std::string("\0", 1) && st.state != 'Z') {
        return true;
      }
    }
  }
  return false;
}

TEST(SeccompFilter, DeniesMountsAndNewUserNamespacesButNotOrdinaryCalls) {
  std::vector<sock_filter> filter = instanceSeccompFilter();
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    sock_fprog prog{static_cast<unsigned short>(filter.size()), filter.data()};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0) {
      _exit(10);
    }
    if (mount("none", "/mnt", "tmpfs", 0, nullptr) == 0 || errno != EPERM) {
      _exit(11);
    }
    if (unshare(CLONE_NEWUSER) == 0 || errno != EPERM) {
      _exit(12);
    }
    if (syscall(SYS_clone3, nullptr, 0) == 0 || errno != ENOSYS) {
      _exit(13);
    }
    if (syscall(SYS_setns, -1, 0) == 0 || errno != EPERM) {
      _exit(14);
    }
    if (getpid() <= 0 || access("/", R_OK) != 0) {
      _exit(15);
    }
    pid_t grandchild = fork(); // clone without CLONE_NEWUSER is allowed
    if (grandchild < 0) {
      _exit(16);
    }
    if (grandchild == 0) {
      _exit(0);
    }
    int st = 0;
    waitpid(grandchild, &st, 0);
    _exit(WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 17);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

class IsolationTest : public ::testing::Test {
protected:
  void SetUp() override {
    fs::create_directories(tmp_ / "app");
    writeFile(tmp_ / "app/data.txt", "original\n");
    // Tries binds and a connection, printing what happened (address_guard.h).
    writeFile(tmp_ / "app/addr.py",
              "import os, socket\n"
              "def bind(family, addr):\n"
              "    try:\n"
              "        s = socket.socket(family)\n"
              "        s.bind((addr, 0))\n"
              "        print('bind', addr, 'got', s.getsockname()[0], flush=True)\n"
              "    except OSError as e:\n"
              "        print('bind', addr, 'refused', e.errno, flush=True)\n"
              "for a in [os.environ['HOST'], '0.0.0.0', os.environ['OTHER'], '127.0.0.1']:\n"
              "    bind(socket.AF_INET, a)\n"
              "for a in ['::1', '::']:\n"
              "    bind(socket.AF_INET6, a)\n"
              "c = socket.create_connection(('127.0.0.1', int(os.environ['PORT'])))\n"
              "print('connected from', c.getsockname()[0], flush=True)\n");
    ImageStore store(tmp_ / "images");
    auto image = store.importDirectory(tmp_ / "app");
    ASSERT_TRUE(image.isOk()) << image.status().toString();
    rootfs_ = store.rootfsPath(image->digest);
  }

  void TearDown() override {
    for (auto& [provider, id] : started_) {
      Status s = provider->destroy(id);
      EXPECT_TRUE(s.isOk()) << s.toString();
    }
  }

  LocalProvider* makeProvider(const std::string& cgroupMode = "auto",
                              const std::string& diskMode = "auto") {
    LocalProviderOptions o;
    o.root = tmp_ / "instances";
    o.dataDir = tmp_.path();
    o.cgroupMode = cgroupMode;
    o.diskMode = diskMode;
    providers_.push_back(std::make_unique<LocalProvider>(o));
    return providers_.back().get();
  }

  LaunchSpec spec(const std::string& command) {
    LaunchSpec s;
    s.instanceId = newId("i");
    s.imageRootfs = rootfs_;
    s.command = command;
    s.environment = {{"TIDE_INSTANCE_ID", s.instanceId}};
    return s;
  }

  Result<ProcessRef> start(LocalProvider& p, const LaunchSpec& s) {
    auto ref = p.start(s);
    if (ref.isOk()) {
      started_.emplace_back(&p, s.instanceId);
    }
    return ref;
  }

  // Starts the command and waits for "ready" on the console; returns the console.
  std::string runUntilReady(LocalProvider& p, const LaunchSpec& s, ProcessRef* refOut = nullptr) {
    auto ref = start(p, s);
    EXPECT_TRUE(ref.isOk()) << ref.status().toString();
    if (!ref.isOk()) {
      return "";
    }
    if (refOut != nullptr) {
      *refOut = *ref;
    }
    const std::string console = p.consoleLogPath(s.instanceId);
    EXPECT_TRUE(waitFor([&] { return contains(readText(console), "ready\n"); }))
        << readText(console);
    return readText(console);
  }

  TempDir tmp_;
  std::string rootfs_;
  std::vector<std::unique_ptr<LocalProvider>> providers_;
  std::vector<std::pair<LocalProvider*, std::string>> started_;
};

TEST_F(IsolationTest, AnInstanceReachesNothingButItsOwnDisk) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "root only: instances get a uid of their own only when tide runs as root";
  }
  auto p = makeProvider();
  ASSERT_EQ(p->info().isolation, "full") << p->info().isolationNote;

  // The victim: a secret on its disk, running.
  auto victimSpec = spec("echo secret > secret.txt; echo ready; sleep 60");
  ProcessRef victim;
  runUntilReady(*p, victimSpec, &victim);
  const std::string victimDisk = p->diskPath(victimSpec.instanceId);
  ASSERT_TRUE(fs::exists(victimDisk + "/secret.txt"));

  const std::string mark = std::to_string(getpid());
  const std::string v1 = "/sys/fs/cgroup/cpu";
  auto attacker = spec(
      "echo \"uid=$(id -u) gid=$(id -g)\"\n"
      "r() { if eval \"$2\" >/dev/null 2>&1; then echo \"$1: done\"; else echo \"$1: refused\"; "
      "fi; }\n"
      "r shadow 'cat /etc/shadow'\n"
      "r other-disk 'cat " +
      victimDisk +
      "/secret.txt'\n"
      "r images 'ls " +
      tmp_.path() +
      "/images'\n"
      "echo \"instances: $(ls " +
      tmp_.path() +
      "/instances | tr '\\n' ' ')\"\n"
      "r signal-other 'kill -0 " +
      std::to_string(victim.pid) +
      "'\n"
      "r signal-init 'kill -0 1'\n"
      "r leave-cgroup 'echo $$ > " +
      v1 +
      "/cgroup.procs'\n"
      "r leave-cgroup-tide 'echo $$ > " +
      v1 +
      "/tide/cgroup.procs'\n"
      "r host-write 'touch /var/tmp/tide-isolation-" +
      mark +
      "'\n"
      "r tmp-write 'echo private > /tmp/tide-isolation-" +
      mark +
      "'\n"
      "r disk-write 'echo mine > own.txt'\n"
      "r mount 'mount -t tmpfs none /mnt'\n"
      "echo \"pids: $(ls /proc | grep -c '^[0-9]')\"\n"
      "echo \"nnp: $(grep NoNewPrivs /proc/self/status | tr -d ' \\t')\"\n"
      "echo \"capbnd: $(grep CapBnd /proc/self/status | tr -d ' \\t')\"\n"
      "echo \"capeff: $(grep CapEff /proc/self/status | tr -d ' \\t')\"\n"
      "echo ready; sleep 60");
  attacker.userData = "#!/bin/sh\nid -u > user-data-uid.txt\ncat /etc/shadow > /tmp/x 2>&1\n"
                      "cat /etc/shadow > shadow.txt 2>&1\n";
  std::string console = runUntilReady(*p, attacker);
  const std::string disk = p->diskPath(attacker.instanceId);
  SCOPED_TRACE(console);

  // Its own uid and gid, from the range.
  std::string uid = readText(disk + "/user-data-uid.txt");
  ASSERT_FALSE(uid.empty());
  unsigned uidNumber = unsigned(std::stoul(uid));
  EXPECT_GE(uidNumber, kInstanceUidBase);
  EXPECT_LT(uidNumber, kInstanceUidBase + kInstanceUidCount);
  EXPECT_TRUE(contains(console, "uid=" + std::to_string(uidNumber) +
                                    " gid=" + std::to_string(uidNumber) + "\n"));
  struct stat st;
  ASSERT_EQ(stat(disk.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, uidNumber); // the disk is its own

  EXPECT_TRUE(contains(console, "shadow: refused\n"));
  EXPECT_TRUE(contains(console, "other-disk: refused\n"));
  EXPECT_TRUE(contains(console, "images: refused\n"));
  EXPECT_TRUE(contains(console, "instances: " + attacker.instanceId + " \n"));
  EXPECT_TRUE(contains(console, "signal-other: refused\n"));
  EXPECT_TRUE(contains(console, "signal-init: refused\n"));
  EXPECT_TRUE(contains(console, "leave-cgroup: refused\n"));
  EXPECT_TRUE(contains(console, "leave-cgroup-tide: refused\n"));
  EXPECT_TRUE(contains(console, "host-write: refused\n"));
  EXPECT_TRUE(contains(console, "tmp-write: done\n"));
  EXPECT_TRUE(contains(console, "disk-write: done\n"));
  EXPECT_TRUE(contains(console, "mount: refused\n"));
  EXPECT_TRUE(contains(console, "nnp: NoNewPrivs:1\n"));
  // Of every capability only CAP_NET_BIND_SERVICE (bit 10) is left, for ports below 1024.
  EXPECT_TRUE(contains(console, "capbnd: CapBnd:0000000000000400\n"));
  EXPECT_TRUE(contains(console, "capeff: CapEff:0000000000000400\n"));
  // Its PID namespace: the init, the shell and whatever the shell runs now; not the host's.
  size_t pids = console.find("pids: ");
  ASSERT_NE(pids, std::string::npos);
  EXPECT_LT(std::stoi(console.substr(pids + 6)), 10);

  // Nothing landed on the host; the user data's copy of /etc/shadow holds only an error.
  EXPECT_FALSE(fs::exists("/var/tmp/tide-isolation-" + mark));
  EXPECT_FALSE(fs::exists("/tmp/tide-isolation-" + mark));
  EXPECT_EQ(readText(disk + "/own.txt"), "mine\n");
  EXPECT_FALSE(contains(readText(disk + "/shadow.txt"), "root:"));
  // The victim is untouched.
  EXPECT_EQ(p->status(victimSpec.instanceId, victim).state, ProcessState::Running);
  EXPECT_EQ(readText(victimDisk + "/secret.txt"), "secret\n");
}

TEST_F(IsolationTest, AnInstanceBindsOnlyItsOwnAddressAndConnectsFromIt) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "root only: cgroup BPF programs need privileges";
  }
  auto p = makeProvider();
  if (p->info().isolation != "full" || p->info().cgroups == "none") {
    GTEST_SKIP() << "no isolation with cgroups here: " << p->info().isolationNote;
  }
  if (contains(p->info().isolationNote, "address")) {
    GTEST_SKIP() << p->info().isolationNote;
  }
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&at), sizeof at), 0);
  ASSERT_EQ(listen(listener, 4), 0);
  socklen_t len = sizeof at;
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&at), &len), 0);

  const std::string own = "127.1.251." + std::to_string(10 + getpid() % 200);
  const std::string other = "127.1.252." + std::to_string(10 + getpid() % 200);
  auto s = spec("python3 addr.py; echo ready; sleep 60");
  s.environment.push_back({"HOST", own});
  s.environment.push_back({"OTHER", other});
  s.environment.push_back({"PORT", std::to_string(ntohs(at.sin_port))});
  std::string console = runUntilReady(*p, s);
  SCOPED_TRACE(console);
  sockaddr_in peer{};
  len = sizeof peer;
  int conn = accept4(listener, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
  ASSERT_GE(conn, 0);
  char text[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &peer.sin_addr, text, sizeof text);
  EXPECT_EQ(std::string(text), own);
  close(conn);
  close(listener);

  EXPECT_TRUE(contains(console, "bind " + own + " got " + own + "\n"));
  EXPECT_TRUE(contains(console, "bind 0.0.0.0 got " + own + "\n"));
  EXPECT_TRUE(contains(console, "bind " + other + " refused 1\n"));
  EXPECT_TRUE(contains(console, "bind 127.0.0.1 refused 1\n"));
  EXPECT_TRUE(contains(console, "bind ::1 refused 1\n"));
  EXPECT_TRUE(contains(console, "bind :: got ::ffff:" + own + "\n"));
  EXPECT_TRUE(contains(console, "connected from " + own + "\n"));
}

TEST_F(IsolationTest, ARestartKeepsTheUidAndTheDisk) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "root only: instances get a uid of their own only when tide runs as root";
  }
  auto p = makeProvider();
  ASSERT_EQ(p->info().isolation, "full") << p->info().isolationNote;
  ProcessRef ref;
  auto s = spec("id -u > uid.txt; echo ready; sleep 60");
  runUntilReady(*p, s, &ref);
  const std::string disk = p->diskPath(s.instanceId);
  std::string first = readText(disk + "/uid.txt");
  ASSERT_TRUE(p->signal(s.instanceId, ref, SIGKILL).isOk());
  ASSERT_TRUE(waitFor([&] { return p->status(s.instanceId, ref).state == ProcessState::Exited; }));
  ASSERT_TRUE(p->releaseProcess(s.instanceId).isOk());
  started_.clear(); // started again below
  s.command = "echo \"again $(id -u) $(cat uid.txt)\"; sleep 60";
  ASSERT_TRUE(start(*p, s).isOk());
  const std::string console = p->consoleLogPath(s.instanceId);
  EXPECT_TRUE(waitFor([&] {
    return contains(readText(console), "again " + first.substr(0, first.size() - 1) + " " + first);
  })) << readText(console);
}

// Two servers on one machine never give one uid to two instances: the uid follows the address,
// which the host-wide address registry gives to one server's instance alone.
TEST_F(IsolationTest, TheUidFollowsTheInstancesAddress) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "root only: instances get a uid of their own only when tide runs as root";
  }
  auto p = makeProvider();
  ASSERT_EQ(p->info().isolation, "full") << p->info().isolationNote;
  auto a = spec("id -u > uid.txt; echo ready; sleep 60");
  a.environment.emplace_back("HOST", "127.1.3.9");
  runUntilReady(*p, a);
  EXPECT_EQ(readText(p->diskPath(a.instanceId) + "/uid.txt"),
            std::to_string(kInstanceUidBase + 3 * 256 + 9) + "\n");
  // Another instance at another address: another uid, whatever its id.
  LocalProvider* q = p;
  auto b = spec("id -u > uid.txt; echo ready; sleep 60");
  b.environment.emplace_back("HOST", "127.1.4.9");
  runUntilReady(*q, b);
  EXPECT_EQ(readText(q->diskPath(b.instanceId) + "/uid.txt"),
            std::to_string(kInstanceUidBase + 4 * 256 + 9) + "\n");
}

TEST_F(IsolationTest, TerminationEndsWhatCalledSetsid) {
  // Without cgroups, so that only the PID namespace can end the escaped process.
  auto p = makeProvider("none");
  if (p->info().isolation == "none") {
    GTEST_SKIP() << "no isolation here: " << p->info().isolationNote;
  }
  const std::string mark = std::to_string(3000 + getpid() % 1000) + ".5";
  ProcessRef ref;
  auto s = spec("setsid sleep " + mark + " & echo ready; exec sleep 60");
  runUntilReady(*p, s, &ref);
  ASSERT_TRUE(waitFor([&] { return sleepRunning(mark); }));
  ASSERT_TRUE(p->signal(s.instanceId, ref, SIGTERM).isOk());
  ProcessStatus st;
  ASSERT_TRUE(waitFor([&] {
    st = p->status(s.instanceId, ref);
    return st.state == ProcessState::Exited;
  }));
  EXPECT_EQ(st.description, "killed by signal 15 (Terminated)");
  EXPECT_TRUE(waitFor([&] { return !sleepRunning(mark); }));
}

// Without root: a user namespace, the same file system view, and termination that setsid
// cannot escape. The provider runs in a child that dropped to nobody.
TEST_F(IsolationTest, WithoutRootInstancesRunInAUserNamespace) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "needs root to become nobody for the test";
  }
  fs::create_directories(tmp_ / "nobody");
  ASSERT_EQ(chown((tmp_ / "nobody").c_str(), 65534, 65534), 0);
  ASSERT_EQ(chmod(tmp_.path().c_str(), 0755), 0);
  const std::string mark = std::to_string(4000 + getpid() % 1000) + ".5";
  int pipeFd[2];
  ASSERT_EQ(pipe(pipeFd), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(pipeFd[0]);
    std::string out;
    // Dumpable again after the id change, as a server exec'd by that user is (its own /proc
    // files, uid_map among them, are then its own).
    if (setgroups(0, nullptr) != 0 || setgid(65534) != 0 || setuid(65534) != 0 ||
        prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0) {
      _exit(2);
    }
    {
      LocalProviderOptions o;
      o.root = tmp_ / "nobody/instances";
      o.dataDir = tmp_ / "nobody";
      o.cgroupMode = "none";
      LocalProvider p(o);
      ProviderInfo info = p.info();
      out += "isolation=" + info.isolation + "|" + info.isolationNote + "\n";
      if (info.isolation == "user-namespace") {
        fs::create_directories(tmp_ / "nobody/app");
        writeFile(tmp_ / "nobody/app/data.txt", "original\n");
        LaunchSpec s;
        s.instanceId = newId("i");
        s.imageRootfs = tmp_ / "nobody/app";
        s.command = "setsid sleep " + mark + " & ls " + tmp_.path() +
                    "/nobody | tr '\\n' ' '; echo; "
                    "echo x > /var/tmp/x 2>/dev/null || echo host-write-refused; "
                    "echo ready; exec sleep 60";
        auto ref = p.start(s);
        if (!ref.isOk()) {
          out += "start failed: " + ref.status().toString() + "\n";
        } else {
          std::string console = p.consoleLogPath(s.instanceId);
          waitFor([&] { return contains(readText(console), "ready\n") && sleepRunning(mark); });
          out += "console=" + readText(console);
          out += std::string("escaped-before=") + (sleepRunning(mark) ? "yes" : "no") + "\n";
          (void)p.signal(s.instanceId, *ref, SIGTERM);
          waitFor([&] { return p.status(s.instanceId, *ref).state == ProcessState::Exited; });
          out += "status=" + p.status(s.instanceId, *ref).description + "\n";
          waitFor([&] { return !sleepRunning(mark); });
          out += std::string("escaped-after=") + (sleepRunning(mark) ? "yes" : "no") + "\n";
          (void)p.destroy(s.instanceId);
        }
      }
    }
    [[maybe_unused]] ssize_t w = write(pipeFd[1], out.data(), out.size());
    _exit(0);
  }
  close(pipeFd[1]);
  std::string got;
  char buf[4096];
  for (ssize_t n; (n = read(pipeFd[0], buf, sizeof buf)) > 0;) {
    got.append(buf, size_t(n));
  }
  close(pipeFd[0]);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << "\n" << got;
  if (!contains(got, "isolation=user-namespace")) {
    GTEST_SKIP() << "user namespaces not available to an unprivileged user here: " << got;
  }
  EXPECT_TRUE(contains(got, "console=instances \n")) << got; // the data dir shows its disk only
  EXPECT_TRUE(contains(got, "host-write-refused\n")) << got;
  EXPECT_TRUE(contains(got, "escaped-before=yes\n")) << got;
  EXPECT_TRUE(contains(got, "status=killed by signal 15 (Terminated)\n")) << got;
  EXPECT_TRUE(contains(got, "escaped-after=no\n")) << got;
}

} // namespace
} // namespace tide::runtime
