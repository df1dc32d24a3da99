#include "runtime/address_guard.h"

#include "runtime/file_tree.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tide::runtime {

namespace {

// Instruction builders (the kernel's own macros are not part of its user-space headers).
bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i;
  memset(&i, 0, sizeof i);
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}
bpf_insn movImm(uint8_t dst, int32_t imm) {
  return insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm);
}
bpf_insn movReg(uint8_t dst, uint8_t src) {
  return insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0);
}
bpf_insn addImm(uint8_t dst, int32_t imm) {
  return insn(BPF_ALU64 | BPF_ADD | BPF_K, dst, 0, 0, imm);
}
bpf_insn and32Imm(uint8_t dst, int32_t imm) {
  return insn(BPF_ALU | BPF_AND | BPF_K, dst, 0, 0, imm);
}
bpf_insn loadW(uint8_t dst, uint8_t src, int16_t off) {
  return insn(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0);
}
bpf_insn store(uint8_t size, uint8_t dst, uint8_t src, int16_t off) {
  return insn(BPF_STX | BPF_MEM | size, dst, src, off, 0);
}
// Compares the low 32 bits of dst with imm; jumps off instructions ahead when op holds.
bpf_insn jump32(uint8_t op, uint8_t dst, uint32_t imm, int16_t off) {
  return insn(BPF_JMP32 | op | BPF_K, dst, 0, off, int32_t(imm));
}
bpf_insn jumpAlways(int16_t off) {
  return insn(BPF_JMP | BPF_JA, 0, 0, off, 0);
}
bpf_insn call(int32_t helper) {
  return insn(BPF_JMP | BPF_CALL, 0, 0, 0, helper);
}
bpf_insn exitInsn() {
  return insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

constexpr int16_t kIp4 = offsetof(bpf_sock_addr, user_ip4);
constexpr int16_t kIp6 = offsetof(bpf_sock_addr, user_ip6);

long bpfCall(int cmd, bpf_attr& attr) {
  return syscall(SYS_bpf, cmd, &attr, sizeof attr);
}

uint64_t pointer(const void* p) {
  return uint64_t(uintptr_t(p));
}

Result<int> load(const std::vector<bpf_insn>& program, bpf_attach_type type, const char* name) {
  static const char kLicense[] = "Proprietary";
  bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_CGROUP_SOCK_ADDR;
  attr.expected_attach_type = type;
  attr.insns = pointer(program.data());
  attr.insn_cnt = uint32_t(program.size());
  attr.license = pointer(kLicense);
  int fd = int(bpfCall(BPF_PROG_LOAD, attr));
  if (fd >= 0) {
    return fd;
  }
  int err = errno;
  // Again with the verifier's log, for the message.
  std::string log(16384, '\0');
  attr.log_buf = pointer(log.data());
  attr.log_size = uint32_t(log.size());
  attr.log_level = 1;
  int again = int(bpfCall(BPF_PROG_LOAD, attr));
  if (again >= 0) {
    close(again);
  }
  log.resize(strlen(log.c_str()));
  return internalError(std::string("cannot load the ") + name + " program: " + errnoText(err) +
                       (log.empty() ? "" : " (verifier: " + log + ")"));
}

} // namespace

std::vector<bpf_insn> bind4Program(uint32_t address) {
  return {
      loadW(BPF_REG_2, BPF_REG_1, kIp4),        // 0: r2 = ctx->user_ip4
      jump32(BPF_JEQ, BPF_REG_2, address, 3),   // 1: its own address → 5 (allow)
      jump32(BPF_JNE, BPF_REG_2, 0, 4),         // 2: not 0.0.0.0 → 7 (refuse)
      movImm(BPF_REG_3, int32_t(address)),      // 3: 0.0.0.0 becomes its own address
      store(BPF_W, BPF_REG_1, BPF_REG_3, kIp4), // 4
      movImm(BPF_REG_0, 1),                     // 5: allow
      exitInsn(),                               // 6
      movImm(BPF_REG_0, 0),                     // 7: refuse (EPERM)
      exitInsn(),                               // 8
  };
}

std::vector<bpf_insn> bind6Program(uint32_t address) {
  const uint32_t mapped = htonl(0xffff); // the third word of ::ffff:a.b.c.d
  return {
      loadW(BPF_REG_2, BPF_REG_1, kIp6),             // 0
      loadW(BPF_REG_3, BPF_REG_1, kIp6 + 4),         // 1
      loadW(BPF_REG_4, BPF_REG_1, kIp6 + 8),         // 2
      loadW(BPF_REG_5, BPF_REG_1, kIp6 + 12),        // 3
      jump32(BPF_JNE, BPF_REG_2, 0, 12),             // 4: → 17 (refuse)
      jump32(BPF_JNE, BPF_REG_3, 0, 11),             // 5: → 17
      jump32(BPF_JNE, BPF_REG_4, 0, 6),              // 6: → 13 (a mapped address?)
      jump32(BPF_JNE, BPF_REG_5, 0, 9),              // 7: → 17
      movImm(BPF_REG_6, int32_t(mapped)),            // 8: "::" becomes ::ffff:<address>
      store(BPF_W, BPF_REG_1, BPF_REG_6, kIp6 + 8),  // 9
      movImm(BPF_REG_6, int32_t(address)),           // 10
      store(BPF_W, BPF_REG_1, BPF_REG_6, kIp6 + 12), // 11
      jumpAlways(2),                                 // 12: → 15 (allow)
      jump32(BPF_JNE, BPF_REG_4, mapped, 3),         // 13: → 17
      jump32(BPF_JNE, BPF_REG_5, address, 2),        // 14: → 17
      movImm(BPF_REG_0, 1),                          // 15: allow
      exitInsn(),                                    // 16
      movImm(BPF_REG_0, 0),                          // 17: refuse (EPERM)
      exitInsn(),                                    // 18
  };
}

std::vector<bpf_insn> connect4Program(uint32_t address) {
  return {
      loadW(BPF_REG_2, BPF_REG_1, kIp4),                  // 0: r2 = destination
      and32Imm(BPF_REG_2, int32_t(htonl(0xff000000u))),   // 1: its first octet
      jump32(BPF_JNE, BPF_REG_2, htonl(0x7f000000u), 13), // 2: not loopback → 16 (allow)
      movReg(BPF_REG_6, BPF_REG_1),                       // 3: keep ctx
      movImm(BPF_REG_7, 0),                               // 4: a sockaddr_in on the stack
      store(BPF_DW, BPF_REG_10, BPF_REG_7, -16),          // 5
      store(BPF_DW, BPF_REG_10, BPF_REG_7, -8),           // 6
      movImm(BPF_REG_7, AF_INET),                         // 7
      store(BPF_H, BPF_REG_10, BPF_REG_7, -16),           // 8: sin_family
      movImm(BPF_REG_7, int32_t(address)),                // 9
      store(BPF_W, BPF_REG_10, BPF_REG_7, -12),           // 10: sin_addr (port 0: any)
      movReg(BPF_REG_1, BPF_REG_6),                       // 11
      movReg(BPF_REG_2, BPF_REG_10),                      // 12
      addImm(BPF_REG_2, -16),                             // 13
      movImm(BPF_REG_3, int32_t(sizeof(sockaddr_in))),    // 14
      call(BPF_FUNC_bind),                                // 15: an already bound socket keeps
                                                          //     its address (error ignored)
      movImm(BPF_REG_0, 1),                               // 16: allow
      exitInsn(),                                         // 17
  };
}

Status confineAddress(const std::string& cgroup2Dir, const std::string& ipv4) {
  in_addr a;
  if (inet_pton(AF_INET, ipv4.c_str(), &a) != 1) {
    return Status("InvalidParameterValue", "not an IPv4 address: \"" + ipv4 + "\"");
  }
  int dir = open(cgroup2Dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) {
    return internalError("cannot open cgroup " + cgroup2Dir + ": " + errnoText(errno));
  }
  struct Program {
    std::vector<bpf_insn> code;
    bpf_attach_type type;
    const char* name;
  };
  const Program programs[] = {
      {bind4Program(a.s_addr), BPF_CGROUP_INET4_BIND, "bind4"},
      {bind6Program(a.s_addr), BPF_CGROUP_INET6_BIND, "bind6"},
      {connect4Program(a.s_addr), BPF_CGROUP_INET4_CONNECT, "connect4"},
  };
  Status result = Status::ok();
  for (const Program& p : programs) {
    Result<int> fd = load(p.code, p.type, p.name);
    if (!fd) {
      result = fd.status();
      break;
    }
    bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.target_fd = uint32_t(dir);
    attr.attach_bpf_fd = uint32_t(*fd);
    attr.attach_type = p.type;
    long r = bpfCall(BPF_PROG_ATTACH, attr);
    int err = errno;
    close(*fd);
    if (r != 0) {
      result = internalError(std::string("cannot attach the ") + p.name + " program to " +
                             cgroup2Dir + ": " + errnoText(err));
      break;
    }
  }
  close(dir);
  return result;
}

} // namespace tide::runtime
