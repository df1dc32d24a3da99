// How the store keeps model objects: one JSON document per row (plus key columns). This is the
// store's own encoding, not the API's wire shape; fields are named as in the model and new
// fields take their defaults when absent, so old rows read back after an upgrade.
#pragma once

#include "common/status.h"
#include "model/auto_scaling.h"
#include "model/certificate.h"
#include "model/elb.h"
#include "model/network.h"
#include "model/types.h"

#include <string>

namespace tide::store {

std::string encodeImage(const model::Image& v);
Result<model::Image> decodeImage(const std::string& doc);
std::string encodeLaunchTemplate(const model::LaunchTemplate& v);
Result<model::LaunchTemplate> decodeLaunchTemplate(const std::string& doc);
std::string encodeLaunchTemplateVersion(const model::LaunchTemplateVersion& v);
Result<model::LaunchTemplateVersion> decodeLaunchTemplateVersion(const std::string& doc);
std::string encodeInstance(const model::Instance& v);
Result<model::Instance> decodeInstance(const std::string& doc);

std::string encodeLoadBalancer(const model::LoadBalancer& v);
Result<model::LoadBalancer> decodeLoadBalancer(const std::string& doc);
std::string encodeListener(const model::Listener& v);
Result<model::Listener> decodeListener(const std::string& doc);
std::string encodeTargetGroup(const model::TargetGroup& v);
Result<model::TargetGroup> decodeTargetGroup(const std::string& doc);
std::string encodeTarget(const model::Target& v);
Result<model::Target> decodeTarget(const std::string& doc);

std::string encodeAutoScalingGroup(const model::AutoScalingGroup& v);
Result<model::AutoScalingGroup> decodeAutoScalingGroup(const std::string& doc);
std::string encodeScalingPolicy(const model::ScalingPolicy& v);
Result<model::ScalingPolicy> decodeScalingPolicy(const std::string& doc);
std::string encodeScalingActivity(const model::ScalingActivity& v);
Result<model::ScalingActivity> decodeScalingActivity(const std::string& doc);
std::string encodeAlarm(const model::MetricAlarm& v);
Result<model::MetricAlarm> decodeAlarm(const std::string& doc);
std::string encodeAlarmHistoryItem(const model::AlarmHistoryItem& v);
Result<model::AlarmHistoryItem> decodeAlarmHistoryItem(const std::string& doc);
std::string encodeStack(const model::Stack& v);
Result<model::Stack> decodeStack(const std::string& doc);
std::string encodeStackEvent(const model::StackEvent& v);
Result<model::StackEvent> decodeStackEvent(const std::string& doc);

std::string encodeVpc(const model::Vpc& v);
Result<model::Vpc> decodeVpc(const std::string& doc);
std::string encodeSubnet(const model::Subnet& v);
Result<model::Subnet> decodeSubnet(const std::string& doc);
std::string encodeSecurityGroup(const model::SecurityGroup& v);
Result<model::SecurityGroup> decodeSecurityGroup(const std::string& doc);
std::string encodeKeyPair(const model::KeyPair& v);
Result<model::KeyPair> decodeKeyPair(const std::string& doc);
std::string encodeCertificate(const model::Certificate& v);
Result<model::Certificate> decodeCertificate(const std::string& doc);

} // namespace tide::store
