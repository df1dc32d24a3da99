// DescribeRegions, DescribeAvailabilityZones and DescribeAccountAttributes: what tools ask
// before they make anything. Nothing here is state: regions are AWS's list, the zones are the
// request's region's "a", "b" and "c", and the account's attributes say what tide offers.
#include "api/handlers.h"
#include "api/network_shapes.h"
#include "api/params.h"

#include <algorithm>

namespace tide::api {

namespace {

struct RegionRow {
  std::string_view name;
  bool optIn; // an opt-in region: listed only with AllRegions, "not-opted-in"
};

// AWS's commercial regions: the ones every account has, then the opt-in ones.
constexpr RegionRow kRegions[] = {
    {"ap-south-1", false},     {"eu-north-1", false},     {"eu-west-3", false},
    {"eu-west-2", false},      {"eu-west-1", false},      {"ap-northeast-3", false},
    {"ap-northeast-2", false}, {"ap-northeast-1", false}, {"ca-central-1", false},
    {"sa-east-1", false},      {"ap-southeast-1", false}, {"ap-southeast-2", false},
    {"eu-central-1", false},   {"us-east-1", false},      {"us-east-2", false},
    {"us-west-1", false},      {"us-west-2", false},      {"af-south-1", true},
    {"ap-east-1", true},       {"ap-south-2", true},      {"ap-southeast-3", true},
    {"ap-southeast-4", true},  {"ca-west-1", true},       {"eu-central-2", true},
    {"eu-south-1", true},      {"eu-south-2", true},      {"il-central-1", true},
    {"me-central-1", true},    {"me-south-1", true},
};

std::string list(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) {
    out += out.empty() ? "" : ", ";
    out += n;
  }
  return out;
}

} // namespace

Result<Json> describeRegions(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"RegionNames", "Filters", "AllRegions", "DryRun"}));
  TIDE_ASSIGN_OR_RETURN(auto names, optStringList(p, "RegionNames"));
  TIDE_ASSIGN_OR_RETURN(auto fs, filters(p));
  TIDE_ASSIGN_OR_RETURN(auto all, optBool(p, "AllRegions"));
  std::vector<RegionRow> rows(std::begin(kRegions), std::end(kRegions));
  // The server's own region is always one of them, even when it is not AWS's ("local").
  bool known = std::any_of(rows.begin(), rows.end(),
                           [&](const RegionRow& r) { return r.name == ctx.region; });
  if (!known) {
    rows.push_back({ctx.region, false});
  }
  std::vector<std::string> missing;
  for (const std::string& n : names) {
    if (std::none_of(rows.begin(), rows.end(), [&](const RegionRow& r) { return r.name == n; })) {
      missing.push_back(n);
    }
  }
  if (!missing.empty()) {
    return Status("InvalidParameterValue", "Invalid region names: [" + list(missing) + "]");
  }
  Json out = Json::array();
  for (const RegionRow& r : rows) {
    std::string name(r.name);
    if (!names.empty() && std::find(names.begin(), names.end(), name) == names.end()) {
      continue;
    }
    if (names.empty() && r.optIn && !all.value_or(false)) {
      continue;
    }
    std::string endpoint = "ec2." + name + ".amazonaws.com";
    std::string optIn = r.optIn ? "not-opted-in" : "opt-in-not-required";
    TIDE_ASSIGN_OR_RETURN(bool keep,
                          matchesFilters(
                              fs, {},
                              [&](const std::string& f) -> std::optional<std::vector<std::string>> {
                                if (f == "region-name") {
                                  return std::vector{name};
                                }
                                if (f == "endpoint") {
                                  return std::vector{endpoint};
                                }
                                if (f == "opt-in-status") {
                                  return std::vector{optIn};
                                }
                                return std::nullopt;
                              },
                              "region-name, endpoint, opt-in-status"));
    if (keep) {
      out.push_back({{"RegionName", name}, {"Endpoint", endpoint}, {"OptInStatus", optIn}});
    }
  }
  return Json{{"Regions", out}};
}

Result<Json> describeAvailabilityZones(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(
      checkKnownParams(p, {"ZoneNames", "ZoneIds", "Filters", "AllAvailabilityZones", "DryRun"}));
  TIDE_ASSIGN_OR_RETURN(auto names, optStringList(p, "ZoneNames"));
  TIDE_ASSIGN_OR_RETURN(auto ids, optStringList(p, "ZoneIds"));
  TIDE_ASSIGN_OR_RETURN(auto fs, filters(p));
  TIDE_ASSIGN_OR_RETURN(auto all, optBool(p, "AllAvailabilityZones"));
  (void)all; // tide has no Local or Wavelength Zones to add
  std::vector<std::string> wanted, missing;
  for (const auto& given : {names, ids}) {
    for (const std::string& n : given) {
      auto letter = zoneLetterOf(ctx.region, n);
      if (!letter) {
        missing.push_back(n);
      } else {
        wanted.push_back(*letter);
      }
    }
  }
  if (!missing.empty()) {
    return Status("InvalidParameterValue", "Invalid availability zone: [" + list(missing) + "]");
  }
  Json out = Json::array();
  for (char c : model::kZoneLetters) {
    std::string letter(1, c);
    if ((!names.empty() || !ids.empty()) &&
        std::find(wanted.begin(), wanted.end(), letter) == wanted.end()) {
      continue;
    }
    Json zone = {{"ZoneName", zoneName(ctx.region, letter)},
                 {"ZoneId", zoneId(ctx.region, letter)},
                 {"State", "available"},
                 {"OptInStatus", "opt-in-not-required"},
                 {"Messages", Json::array()},
                 {"RegionName", ctx.region},
                 {"GroupName", ctx.region},
                 {"NetworkBorderGroup", ctx.region},
                 {"ZoneType", "availability-zone"}};
    TIDE_ASSIGN_OR_RETURN(
        bool keep,
        matchesFilters(
            fs, {},
            [&](const std::string& f) -> std::optional<std::vector<std::string>> {
              static const std::pair<const char*, const char*> kFields[] = {
                  {"zone-name", "ZoneName"},
                  {"zone-id", "ZoneId"},
                  {"state", "State"},
                  {"region-name", "RegionName"},
                  {"group-name", "GroupName"},
                  {"zone-type", "ZoneType"},
                  {"opt-in-status", "OptInStatus"},
                  {"network-border-group", "NetworkBorderGroup"},
              };
              for (const auto& [filter, field] : kFields) {
                if (f == filter) {
                  return std::vector{zone[field].get<std::string>()};
                }
              }
              return std::nullopt;
            },
            "zone-name, zone-id, state, region-name, group-name, zone-type, opt-in-status, "
            "network-border-group"));
    if (keep) {
      out.push_back(zone);
    }
  }
  return Json{{"AvailabilityZones", out}};
}

Result<Json> describeAccountAttributes(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"AttributeNames", "DryRun"}));
  TIDE_ASSIGN_OR_RETURN(auto names, optStringList(p, "AttributeNames"));
  std::string defaultVpc = "none";
  Status s = ctx.store.transact(
      [&](store::Tx& tx) -> Status {
        TIDE_ASSIGN_OR_RETURN(auto vpcs, tx.vpcs());
        for (const model::Vpc& v : vpcs) {
          if (v.isDefault) {
            defaultVpc = v.vpcId;
          }
        }
        return Status::ok();
      },
      false);
  TIDE_RETURN_IF_ERROR(s);
  const std::pair<std::string, std::vector<std::string>> attributes[] = {
      {"supported-platforms", {"VPC"}},
      {"default-vpc", {defaultVpc}},
      {"max-instances", {std::to_string(ctx.limits.maxInstancesPerRequest)}},
      {"vpc-max-security-groups-per-interface", {"5"}},
      {"max-elastic-ips", {"5"}},
      {"vpc-max-elastic-ips", {"5"}},
  };
  std::vector<std::string> missing;
  for (const std::string& n : names) {
    if (std::none_of(std::begin(attributes), std::end(attributes),
                     [&](const auto& a) { return a.first == n; })) {
      missing.push_back(n);
    }
  }
  if (!missing.empty()) {
    return Status("InvalidParameterValue",
                  "Invalid account attribute names: [" + list(missing) + "]");
  }
  Json out = Json::array();
  for (const auto& [name, values] : attributes) {
    if (!names.empty() && std::find(names.begin(), names.end(), name) == names.end()) {
      continue;
    }
    Json vs = Json::array();
    for (const std::string& v : values) {
      vs.push_back({{"AttributeValue", v}});
    }
    out.push_back({{"AttributeName", name}, {"AttributeValues", vs}});
  }
  return Json{{"AccountAttributes", out}};
}

} // namespace tide::api
