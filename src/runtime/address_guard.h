// Address confinement for an instance's sockets, with cgroup BPF programs attached to its
// cgroup2 group (cgroup2Path in cgroup.h; on a hybrid v1 host the otherwise empty cgroup2
// mount, on a pure v2 host the instance's own group):
//   bind4     binding its own address is allowed; 0.0.0.0 is rewritten to it; any other
//             address is refused with EPERM (so no instance can take another's address).
//   bind6     "::" is rewritten to ::ffff:<its address> (IPv4 only, on a dual-stack socket);
//             any other IPv6 address is refused with EPERM.
//   connect4  a connection to a loopback address (127.0.0.0/8) is bound to the instance's
//             own address first (bpf_bind), so that it carries that address as its source;
//             connections elsewhere keep the kernel's choice (127.1.0.x would not route).
// The programs are hand-written bpf_insn arrays loaded with the bpf() system call (no
// compiler needed), and stay attached until the group is removed.
#pragma once

#include "common/status.h"

#include <linux/bpf.h>

#include <cstdint>
#include <string>
#include <vector>

namespace tide::runtime {

// The programs for the address (in network byte order, as in in_addr.s_addr).
std::vector<bpf_insn> bind4Program(uint32_t address);
std::vector<bpf_insn> bind6Program(uint32_t address);
std::vector<bpf_insn> connect4Program(uint32_t address);

// Loads the three programs and attaches them to the cgroup2 folder. Errors: InvalidParameterValue
// for an address that is not dotted IPv4; InternalError naming the step (with the verifier's
// log when a load fails).
Status confineAddress(const std::string& cgroup2Dir, const std::string& ipv4);

} // namespace tide::runtime
