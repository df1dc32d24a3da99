#include "runtime/process.h"

#include "runtime/test_util.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

namespace tide::runtime {
namespace {

using testing::TempDir;

TEST(ProcStat, CountsFieldsAfterTheLastParenthesis) {
  // A command name with spaces and ") " inside, as a process can choose.
  std::string line = "4242 (a) b (c) d) S 1 4242 4242 0 -1 4194560 100 0 0 0 7 3 11 13 20 0 1 0 "
                     "987654 1000000 321 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0\n";
  auto st = parseProcStat(line);
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->pid, 4242);
  EXPECT_EQ(st->state, 'S');
  EXPECT_EQ(st->ppid, 1);
  EXPECT_EQ(st->pgrp, 4242);
  EXPECT_EQ(st->session, 4242);
  EXPECT_EQ(st->utime, 7u);
  EXPECT_EQ(st->stime, 3u);
  EXPECT_EQ(st->cutime, 11u);
  EXPECT_EQ(st->cstime, 13u);
  EXPECT_EQ(st->startTicks, 987654u);
  EXPECT_EQ(st->rssPages, 321);
  EXPECT_FALSE(parseProcStat("12 (x) S 1 2").has_value());
  EXPECT_FALSE(parseProcStat("garbage").has_value());
}

TEST(ProcStat, ReadsOwnProcess) {
  auto st = readProcStat(getpid());
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->pid, getpid());
  EXPECT_EQ(st->ppid, getppid());
  EXPECT_GT(st->startTicks, 0u);
  EXPECT_FALSE(readProcStat(0).has_value());
}

TEST(Spawn, RunsInOwnSessionWithOnlyTheGivenEnvironment) {
  TempDir dir;
  SpawnRequest req;
  req.path = "/bin/sh";
  req.argv = {"sh", "-c", "echo \"FOO=$FOO HOME=${HOME:-unset}\"; pwd; ls /proc/self/fd; exit 3"};
  req.env = {"FOO=bar", "PATH=/usr/bin:/bin"};
  req.workingDir = dir.path();
  req.consolePath = dir / "console.log";
  auto pid = spawnProcess(req);
  ASSERT_TRUE(pid.isOk()) << pid.status().toString();
  int status = 0;
  ASSERT_EQ(waitpid(*pid, &status, 0), *pid);
  EXPECT_EQ(describeWaitStatus(status), "exited with status 3");
  std::string out = testing::readText(dir / "console.log");
  EXPECT_NE(out.find("FOO=bar HOME=unset"), std::string::npos) << out;
  EXPECT_NE(out.find(dir.path() + "\n"), std::string::npos) << out;
  // Only 0, 1, 2 and the fd ls uses to read the folder itself (3).
  EXPECT_NE(out.find("0\n1\n2\n3\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("\n4\n"), std::string::npos) << out;
}

TEST(Spawn, ReportsExecFailureAndLeavesNoChild) {
  TempDir dir;
  SpawnRequest req;
  req.path = dir / "no-such-program";
  req.argv = {"x"};
  req.workingDir = dir.path();
  req.consolePath = dir / "console.log";
  auto pid = spawnProcess(req);
  ASSERT_FALSE(pid.isOk());
  EXPECT_NE(pid.status().message().find("cannot execute"), std::string::npos);
  EXPECT_NE(pid.status().message().find("No such file"), std::string::npos);
  EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1); // nothing left to reap
  EXPECT_EQ(errno, ECHILD);
}

TEST(Spawn, ReportsBadWorkingDirectory) {
  TempDir dir;
  SpawnRequest req;
  req.path = "/bin/true";
  req.argv = {"true"};
  req.workingDir = dir / "missing";
  req.consolePath = dir / "console.log";
  auto pid = spawnProcess(req);
  ASSERT_FALSE(pid.isOk());
  EXPECT_NE(pid.status().message().find("cannot change to"), std::string::npos);
}

TEST(WaitStatus, DescribesSignals) {
  pid_t pid = fork();
  if (pid == 0) {
    pause();
    _exit(0);
  }
  kill(pid, SIGKILL);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_EQ(describeWaitStatus(status), "killed by signal 9 (Killed)");
}

} // namespace
} // namespace tide::runtime
