#include "control/security_group_controller.h"

#include "common/log.h"
#include "control/security_group_firewall.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace tide::control {

namespace {

// The first line of nft's error output, without its trailing newline.
std::string firstLine(const std::string& s) {
  std::string line = s.substr(0, s.find('\n'));
  return line.empty() ? s : line;
}

} // namespace

Status runNft(const std::string& nftPath, const std::string& input) {
  int in[2];
  int err[2];
  if (::pipe2(in, O_CLOEXEC) != 0) {
    return internalError(std::string("pipe: ") + std::strerror(errno));
  }
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(in[0]);
    ::close(in[1]);
    return internalError(std::string("pipe: ") + std::strerror(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  std::string path = nftPath;
  std::string f = "-f";
  std::string dash = "-";
  char* argv[] = {path.data(), f.data(), dash.data(), nullptr};
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, path.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(in[0]);
  ::close(err[1]);
  if (rc != 0) {
    ::close(in[1]);
    ::close(err[0]);
    return internalError("cannot run " + nftPath + ": " + std::strerror(rc));
  }
  // nft reads the whole transaction before it says anything: write it all, then read.
  size_t sent = 0;
  while (sent < input.size()) {
    ssize_t n = ::write(in[1], input.data() + sent, input.size() - sent);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      break; // nft ended early: its status says why
    }
    sent += static_cast<size_t>(n);
  }
  ::close(in[1]);
  std::string errors;
  char buf[4096];
  while (true) {
    ssize_t n = ::read(err[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    if (errors.size() < 64 * 1024) {
      errors.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(err[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return internalError(std::string("waitpid: ") + std::strerror(errno));
    }
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    return Status::ok();
  }
  std::string why = firstLine(errors);
  if (why.empty()) {
    why = WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                            : "ended by a signal";
  }
  return internalError("nft: " + why);
}

std::string findNft() {
  for (const char* p : {"/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft"}) {
    if (::access(p, X_OK) == 0) {
      return p;
    }
  }
  return "";
}

std::string firewallTableName(const std::string& dataDir) {
  uint32_t h = 2166136261u; // FNV-1a
  for (unsigned char c : dataDir) {
    h = (h ^ c) * 16777619u;
  }
  char name[16];
  std::snprintf(name, sizeof name, "tide_%08x", h);
  return name;
}

SecurityGroupController::SecurityGroupController(store::Store& store,
                                                 SecurityGroupControllerOptions options)
    : store_(store), options_(std::move(options)) {}

Result<Millis> SecurityGroupController::reconcile() {
  if (!checked_) {
    checked_ = true;
    unavailable_ = options_.unavailable;
    if (unavailable_.empty()) {
      // Try an empty table first: a failure here is the host's (permissions, no nf_tables),
      // not the rules'.
      Status probe = options_.nft(
          replaceTableTransaction(options_.table, "table inet " + options_.table + " {\n}\n"));
      if (!probe.isOk()) {
        unavailable_ = probe.message();
      }
    }
    if (!unavailable_.empty()) {
      logWarn("security groups: not enforced (" + unavailable_ + ")");
    } else {
      logInfo("security groups: enforced with nftables (table inet " + options_.table + ")");
    }
  }
  if (!unavailable_.empty()) {
    return Millis(60'000); // nothing to do; the watched rows wake it anyway
  }
  std::vector<model::Instance> instances;
  std::vector<model::LoadBalancer> loadBalancers;
  std::vector<model::SecurityGroup> groups;
  TIDE_RETURN_IF_ERROR(store_.transact(
      [&](store::Tx& tx) -> Status {
        auto i = tx.instances();
        auto l = tx.loadBalancers();
        auto g = tx.securityGroups("");
        auto v = tx.vpcs();
        TIDE_RETURN_IF_ERROR(firstError({&i.status(), &l.status(), &g.status(), &v.status()}));
        instances = std::move(*i);
        loadBalancers = std::move(*l);
        groups = std::move(*g);
        // A load balancer given no groups is in its VPC's default group, as
        // DescribeLoadBalancers shows it (its subnets' VPC; none: the default VPC).
        std::string defaultVpc;
        for (const model::Vpc& vpc : *v) {
          if (vpc.isDefault) {
            defaultVpc = vpc.vpcId;
          }
        }
        for (model::LoadBalancer& lb : loadBalancers) {
          if (!lb.securityGroupIds.empty()) {
            continue;
          }
          std::string vpcId = defaultVpc;
          if (!lb.subnetIds.empty()) {
            TIDE_ASSIGN_OR_RETURN(auto subnet, tx.subnet(lb.subnetIds.front()));
            vpcId = subnet ? subnet->vpcId : "";
          }
          for (const model::SecurityGroup& sg : groups) {
            if (sg.vpcId == vpcId && sg.isDefault()) {
              lb.securityGroupIds.push_back(sg.groupId);
            }
          }
        }
        return Status::ok();
      },
      false));
  std::string text =
      renderRuleset(firewallModelOf(instances, loadBalancers, std::move(groups)), options_.table);
  if (text == applied_ && lastError_.empty()) {
    return Millis(60'000);
  }
  Status st = options_.nft(replaceTableTransaction(options_.table, text));
  if (!st.isOk()) {
    if (st.message() != lastError_) {
      logError("security groups: cannot apply the rules: " + st.message());
    }
    lastError_ = st.message();
    return Millis(5'000); // try again
  }
  if (!lastError_.empty()) {
    logInfo("security groups: rules applied again");
  }
  lastError_.clear();
  applied_ = std::move(text);
  return Millis(60'000);
}

void SecurityGroupController::removeTable() {
  if (!checked_ || !unavailable_.empty()) {
    return;
  }
  Status st = options_.nft(deleteTableTransaction(options_.table));
  if (!st.isOk()) {
    logError("security groups: cannot remove table inet " + options_.table + ": " + st.message());
  }
  applied_.clear();
}

std::string SecurityGroupController::enforcement() const {
  if (!checked_) {
    return "not enforced yet (starting)";
  }
  if (!unavailable_.empty()) {
    return "not enforced (" + unavailable_ + ")";
  }
  if (!lastError_.empty()) {
    return "enforced (nftables), but the last change failed: " + lastError_;
  }
  return "enforced (nftables)";
}

} // namespace tide::control
