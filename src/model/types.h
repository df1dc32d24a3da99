// Resource types of tide, named and shaped as in the AWS APIs (EC2 for images, launch
// templates and instances). Type-only header: keep its includes minimal.
#pragma once

#include "common/clock.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tide::model {

struct Tag {
  std::string key;   // 1..128 characters, not starting with "aws:"
  std::string value; // 0..256 characters
  bool operator==(const Tag&) const = default;
};

// ---------------------------------------------------------------------------------------------
// Images (AMIs)

// Image state machine: Pending → Available (content stored) | Failed (import error).
// Deregistering removes the record.
enum class ImageState {
  Pending,   // "pending": its files are being copied into the image store
  Available, // "available": immutable and ready to launch
  Failed,    // "failed": the copy failed; StateReason says why
};

struct Image {
  std::string imageId;     // "ami-" + 17 hex digits
  std::string name;        // unique among images
  std::string description; // free text
  ImageState state = ImageState::Pending;
  std::string stateReason;           // why Failed
  std::string sourceDirectory;       // absolute path it was made from; empty when from an instance
  std::string sourceInstanceId;      // the instance it was made from; empty when from a directory
  std::string runCommand;            // what starts the app, run with /bin/sh -c in the instance
  int port = 8080;                   // where the app listens unless the template says otherwise
  std::string healthCheckPath = "/"; // suggested health check path for target groups
  std::string contentDigest;         // "sha256:..." of its files once Available
  int64_t sizeBytes = 0;             // bytes of regular files
  int64_t fileCount = 0;             // files, directories and symlinks
  TimeMs creationDate = 0;           // when it was requested
  int64_t readAsUid = -1; // sourceDirectory is read with this uid's rights (CreateImage's caller,
                          // 65534 when unknown); -1: the server's own (images tide makes itself)
  int64_t readAsGid = -1; // and this gid
  std::vector<Tag> tags;
};

// ---------------------------------------------------------------------------------------------
// Launch templates

struct EnvironmentVariable {
  std::string name; // [A-Za-z_][A-Za-z0-9_]*, not one of tide's (HOST, PORT, TIDE_*)
  std::string value;
  bool operator==(const EnvironmentVariable&) const = default;
};

struct BlockDeviceMapping {
  std::string deviceName = "/dev/xvda"; // as in EC2; informational
  int volumeSizeGiB = 8;                // Ebs.VolumeSize, 1..16384; kept, not yet enforced
  std::string volumeType = "gp3";       // Ebs.VolumeType
  bool operator==(const BlockDeviceMapping&) const = default;
};

// LaunchTemplateData: every field optional, as in EC2; RunInstances and auto scaling groups
// require ImageId and InstanceType once the version is resolved.
struct LaunchTemplateData {
  std::string imageId;                          // "ami-..."; empty when unset
  std::string instanceType;                     // "t3.micro"; empty when unset
  std::optional<int> port;                      // tide extension: overrides the image's port
  std::string userData;                         // base64, as EC2 carries it; empty when none
  std::vector<EnvironmentVariable> environment; // tide extension: the app's environment
  std::vector<Tag> instanceTags;                // TagSpecifications for ResourceType "instance"
  std::vector<std::string> securityGroupIds;    // "sg-..."; enforced (docs/security.md)
  std::vector<BlockDeviceMapping> blockDeviceMappings; // validated and kept, not yet enforced
  bool operator==(const LaunchTemplateData&) const = default;
};

struct LaunchTemplate {
  std::string launchTemplateId;   // "lt-" + 17 hex digits
  std::string launchTemplateName; // unique
  TimeMs createTime = 0;
  int64_t defaultVersionNumber = 1;
  int64_t latestVersionNumber = 1;
  std::vector<Tag> tags;
};

struct LaunchTemplateVersion {
  std::string launchTemplateId;
  std::string launchTemplateName;
  int64_t versionNumber = 1; // 1, 2, ... never reused; versions are immutable
  std::string versionDescription;
  TimeMs createTime = 0;
  LaunchTemplateData data;
};

// ---------------------------------------------------------------------------------------------
// Instances

// Instance state machine, with EC2's names and codes:
//   pending → running → stopping → stopped → pending (start) ...
//   any → shutting-down → terminated
//   running → stopped when the app exits on its own (instance-initiated shutdown, EC2's
//   default InstanceInitiatedShutdownBehavior "stop"), or → terminated when the instance says so.
enum class InstanceState {
  Pending,      // 0  "pending": recorded, being launched
  Running,      // 16 "running": its process tree runs
  ShuttingDown, // 32 "shutting-down": SIGTERM sent, waiting for exit, then cleanup
  Terminated,   // 48 "terminated": gone; nothing left on the machine
  Stopping,     // 64 "stopping": SIGTERM sent, disk kept
  Stopped,      // 80 "stopped": no process; disk kept; can be started again
};

// What the user asked the instance to become; controllers move State toward it.
enum class InstanceGoal {
  Run,       // be running
  Stop,      // be stopped (disk kept)
  Terminate, // be terminated (everything removed)
};

// An instance's place in its Auto Scaling group (Auto Scaling's LifecycleState):
//   Pending → InService → Terminating → Terminated
//   InService → EnteringStandby (draining) → Standby → Pending (ExitStandby) → InService
//   InService or Standby → Detaching (draining) → out of the group (DetachInstances)
//   (AttachInstances: a running instance joins as Pending)
enum class LifecycleState {
  Pending,            // "Pending": launched (or attached, or back from standby), not yet in service
  InService,          // "InService": running and counted in the group's capacity
  Terminating,        // "Terminating": taken out of service; draining, then terminated
  PendingWait,        // "Pending:Wait": launched, held by launching lifecycle hooks (no traffic)
  PendingProceed,     // "Pending:Proceed": every launching hook said CONTINUE; going in service
  TerminatingWait,    // "Terminating:Wait": drained, held by terminating lifecycle hooks
  TerminatingProceed, // "Terminating:Proceed": the terminating hooks are done; terminated next
  Terminated,         // "Terminated": gone; no longer a member
  EnteringStandby,    // "EnteringStandby": EnterStandby asked; its targets drain
  Standby,            // "Standby": out of service and of the target groups, still a member
  Detaching,          // "Detaching": DetachInstances asked; its targets drain, then it leaves
  // The warm pool (PutWarmPool; not capacity, not in the group's Instances):
  //   Warmed:Pending → Warmed:Stopped | Warmed:Running | Warmed:Hibernated (the pool state)
  //   pool state → Pending (scale-out takes it) → InService
  //   InService → Warmed:Pending (scale-in with ReuseOnScaleIn; its targets drain first)
  //   any Warmed:* → Warmed:Terminating → Warmed:Terminated (pool too big, or deleted)
  WarmedPending,     // "Warmed:Pending": launched (or reused) into the pool, not yet in its state
  WarmedTerminating, // "Warmed:Terminating": leaving the pool, being terminated
  WarmedTerminated,  // "Warmed:Terminated": gone; no longer a member
  WarmedStopped,     // "Warmed:Stopped": process stopped, files kept
  WarmedRunning,     // "Warmed:Running": running, not registered, not capacity
  WarmedHibernated,  // "Warmed:Hibernated": processes held by the cgroup freezer (memory kept)
};

// The group's view of an instance's health (Auto Scaling's HealthStatus).
enum class HealthStatus {
  Healthy,   // "Healthy"
  Unhealthy, // "Unhealthy": to be replaced
};

struct StateReason {
  std::string code;    // EC2's StateReason.Code, e.g. "Client.UserInitiatedShutdown"
  std::string message; // "Client.UserInitiatedShutdown: User initiated shutdown"
};

struct Instance {
  std::string instanceId;    // "i-" + 17 hex digits
  std::string reservationId; // "r-..." shared by the instances of one RunInstances call
  std::string imageId;
  std::string contentDigest; // the image's files it was launched from (kept after deregister)
  std::string runCommand;    // the image's command that starts the app
  std::string instanceType;
  std::string launchTemplateId; // when launched from a template
  std::string launchTemplateName;
  int64_t launchTemplateVersion = 0; // resolved version number; 0 when not from a template
  int amiLaunchIndex = 0;            // position within its reservation
  std::string privateIpAddress;      // in 127.0.0.0/8, unique among instances not terminated
  int port = 8080;                   // where the app listens
  InstanceState state = InstanceState::Pending;
  InstanceGoal goal = InstanceGoal::Run;
  StateReason stateReason;           // why it is in its state (empty when nothing to say)
  std::string stateTransitionReason; // EC2's free-text "User initiated (2026-...)"
  TimeMs launchTime = 0;             // last time it was started
  TimeMs stateChangedAt = 0;         // when State last changed (grace periods count from it)
  std::string userData;              // base64
  std::vector<EnvironmentVariable> environment;
  std::vector<Tag> tags;
  std::vector<std::string> securityGroupIds;
  std::vector<BlockDeviceMapping> blockDeviceMappings;
  // Membership of an Auto Scaling group (empty when launched by hand):
  std::string autoScalingGroupName;
  std::optional<LifecycleState> lifecycleState; // unset when not in a group
  std::optional<HealthStatus> healthStatus;     // as the group sees it; unset when not in a group
  bool protectedFromScaleIn = false; // never chosen to scale the group in (SetInstanceProtection)
  bool addToTargetGroups = true;     // false: put in service while AddToLoadBalancer was suspended,
                                     // so the group never registers it (AWS); ExitStandby resets it
  bool hibernate = false; // goal: its processes held by the cgroup freezer (Hibernated warm pool)
  bool frozen = false;    // observed: the freezer holds them (the instance controller sets it)
  // Observed by the instance controller (durable facts: they change with the process, not
  // every second; its CPU and memory readings are InstanceUsage, kept in memory):
  int pid = 0;                    // process group leader, 0 when none
  uint64_t processStartTicks = 0; // with pid, identifies the process across server restarts
  std::string lastExit;           // how its process last ended ("exited with status 1")
  // When its instance status check failed (the kernel killed one of its processes for memory):
  // DescribeInstanceStatus shows it impaired, its group replaces it. 0 while the check passes;
  // a start (a new boot) clears it.
  TimeMs impairedSince = 0;
};

// The latest CPU and memory reading of a running instance: an observation, kept in memory by
// the instance controller and never stored (after a server restart readings start over).
// DescribeInstances shows it; CPUUtilization also goes to the metric store.
struct InstanceUsage {
  double cpuUtilization = -1; // percent of the type's CPU over the last second; -1 unknown yet
  int64_t memoryBytes = -1;   // memory in use; -1 unknown
};

} // namespace tide::model
