// The security group controller: keeps the kernel's nftables table in step with the store's
// instances, load balancers and security groups (security_group_firewall.h renders it). Each
// pass reads those rows, renders the table and, when the text differs from the one last
// applied, replaces the table in one `nft -f -` transaction: rules change under running
// instances, never half-applied. At shutdown removeTable() deletes the table.
//
// Where enforcement is impossible (not root, no nft binary, nf_tables missing from the kernel)
// the controller filters nothing: the reason is logged once, and enforcement() says
// "not enforced (<reason>)" for `tide status`. A failure to apply a table later (the kernel
// refused it) is logged and shown too, and the next pass tries again; it is never fatal.
// Not thread-safe: runs on the control thread.
#pragma once

#include "common/clock.h"
#include "common/status.h"
#include "store/store.h"

#include <functional>
#include <string>

namespace tide::control {

// Runs nft with `input` on its standard input; an error carries what nft wrote on its error
// output. (Tests give a fake.)
using NftRunner = std::function<Status(const std::string& input)>;

// Runs `nft -f -` (fork and exec, no shell) and waits for it. REQUIRES: nftPath names nft.
Status runNft(const std::string& nftPath, const std::string& input);

// Where nft is: the first of /usr/sbin/nft, /sbin/nft, /usr/bin/nft that exists; empty: none.
std::string findNft();

// The table's name for one data directory ("tide_" and 8 hex digits of a hash of its path), so
// that two tide servers on one host each have their own.
std::string firewallTableName(const std::string& dataDir);

struct SecurityGroupControllerOptions {
  std::string table = "tide"; // the nftables table (family inet) the controller owns
  // Why enforcement is impossible before trying (e.g. "not root"); empty: try.
  std::string unavailable;
  NftRunner nft; // applies a transaction; required unless `unavailable` is set
};

class SecurityGroupController {
public:
  SecurityGroupController(store::Store& store, SecurityGroupControllerOptions options);

  // One pass: renders the table from the store and applies it when it changed. Returns how soon
  // to look again (the scheduler also wakes it on a change of the rows it reads); an error only
  // when the store cannot be read. Applying failures are logged and shown, not returned.
  Result<Millis> reconcile();

  // Deletes the table (at shutdown): nothing stays filtered once the server is gone.
  void removeTable();

  // For `tide status`: "enforced (nftables)", or "not enforced (<reason>)".
  std::string enforcement() const;

  // The table's text as last applied (for tests); empty before the first.
  const std::string& applied() const { return applied_; }

private:
  store::Store& store_;
  SecurityGroupControllerOptions options_;
  bool checked_ = false;    // the first transaction was tried (enforcement is known)
  std::string unavailable_; // why enforcement is impossible; empty: enforced
  std::string lastError_;   // the last failure to apply a table; empty after a success
  std::string applied_;     // the text last applied
};

} // namespace tide::control
