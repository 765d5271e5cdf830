// The runtime of the CPU emulation (cuda_emu.h): device memory, the kernel registry and launches. The
// Java side (EmulatedDriver, kernels tests) calls the extern "C" functions at the end through the FFM API.
//
// A launch runs its blocks one after the other on the calling thread; a block's threads are fibers
// (ucontext), each run until it finishes or waits at a barrier. emu_set_reverse(1) runs the blocks, and
// the threads between two barriers, last first: a kernel whose result depends on that order (a missing
// barrier, one block reading what another writes) then computes something else, and its test fails. When every live thread of a warp waits
// at a warp barrier (__syncwarp, a shuffle) the warp goes on; when every live thread of the block waits
// at __syncthreads the block goes on; anything else is a deadlock, and the launch fails saying so.
// Device memory is malloc'd with guard bytes on both sides, filled with 0xff (NaN as floats) when
// allocated; after every launch the guards are checked, so a kernel that writes out of bounds fails.
#include "cuda_emu.h"

#include <ucontext.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

thread_local uint3 threadIdx;
thread_local uint3 blockIdx;
thread_local dim3 blockDim;
thread_local dim3 gridDim;

namespace cortado_emu {
namespace {

struct Entry {
  void* fn;
  Invoke invoke;
  const char* signature;
};

std::map<std::string, Entry>& registry() {
  static std::map<std::string, Entry> r;
  return r;
}

enum State { READY, AT_BLOCK, AT_WARP, DONE };

bool reverse = false;  // the order of blocks, and of threads between barriers (emu_set_reverse)
constexpr size_t STACK = 256 * 1024;

struct Fiber {
  ucontext_t ctx;
  State state;
  char* stack = nullptr;
};

// The launch running on this thread.
struct Launch {
  Entry entry;
  const uint64_t* args;
  std::vector<Fiber> fibers;
  int current;
  ucontext_t scheduler;
  uint64_t shuffle[32 * 32];
};
thread_local Launch* running;

void fiber_main() {
  Launch* l = running;
  l->entry.invoke(l->entry.fn, l->args);
  l->fibers[l->current].state = DONE;  // returns to uc_link, the scheduler
}

void wait_at(State s) {
  Launch* l = running;
  Fiber& f = l->fibers[l->current];
  f.state = s;
  swapcontext(&f.ctx, &l->scheduler);
}

constexpr size_t GUARD = 1024;
constexpr unsigned char GUARD_BYTE = 0xa5;
std::map<uintptr_t, size_t>& blocks() {  // user address -> bytes, of every live allocation
  static thread_local std::map<uintptr_t, size_t> b;
  return b;
}

bool guards_intact(uintptr_t user, size_t bytes) {
  const unsigned char* lo = reinterpret_cast<const unsigned char*>(user) - GUARD;
  const unsigned char* hi = reinterpret_cast<const unsigned char*>(user) + bytes;
  for (size_t i = 0; i < GUARD; i++) {
    if (lo[i] != GUARD_BYTE || hi[i] != GUARD_BYTE) return false;
  }
  return true;
}

// Runs block blockIdx with blockDim.x fibers; empty on success, else what went wrong.
std::string run_block(Launch& l) {
  const int n = (int)blockDim.x;
  for (int i = 0; i < n; i++) {
    Fiber& f = l.fibers[i];
    getcontext(&f.ctx);
    f.ctx.uc_stack.ss_sp = f.stack;
    f.ctx.uc_stack.ss_size = STACK;
    f.ctx.uc_link = &l.scheduler;
    makecontext(&f.ctx, fiber_main, 0);
    f.state = READY;
  }
  while (true) {
    for (int k = 0; k < n; k++) {
      const int i = reverse ? n - 1 - k : k;
      if (l.fibers[i].state != READY) continue;
      l.current = i;
      threadIdx = {(unsigned)i, 0, 0};
      swapcontext(&l.scheduler, &l.fibers[i].ctx);
    }
    bool live = false, released = false;
    for (int w = 0; w * 32 < n; w++) {
      int waiting = 0, alive = 0;
      for (int i = w * 32; i < n && i < w * 32 + 32; i++) {
        if (l.fibers[i].state == DONE) continue;
        alive++;
        waiting += l.fibers[i].state == AT_WARP;
      }
      live |= alive > 0;
      if (alive > 0 && waiting == alive) {
        for (int i = w * 32; i < n && i < w * 32 + 32; i++) {
          if (l.fibers[i].state == AT_WARP) l.fibers[i].state = READY;
        }
        released = true;
      }
    }
    if (!live) return "";
    if (released) continue;
    int atBlock = -1, atWarp = -1;
    for (int i = 0; i < n; i++) {
      if (l.fibers[i].state == AT_BLOCK && atBlock < 0) atBlock = i;
      if (l.fibers[i].state == AT_WARP && atWarp < 0) atWarp = i;
    }
    if (atWarp < 0) {
      for (int i = 0; i < n; i++) {
        if (l.fibers[i].state == AT_BLOCK) l.fibers[i].state = READY;
      }
      continue;
    }
    char msg[256];
    std::snprintf(msg, sizeof msg,
                  "deadlock in block (%u, %u, %u): thread %d waits at __syncthreads while thread %d waits at a warp"
                  " barrier (__syncwarp or a shuffle) its warp does not reach",
                  blockIdx.x, blockIdx.y, blockIdx.z, atBlock, atWarp);
    return msg;
  }
}

}  // namespace

void block_barrier() { wait_at(AT_BLOCK); }
void warp_barrier() { wait_at(AT_WARP); }
uint64_t* shuffle_slots() { return running->shuffle; }

void add_kernel(const char* name, void* fn, Invoke invoke, const char* signature) {
  registry()[name] = Entry{fn, invoke, signature};
}

}  // namespace cortado_emu

using namespace cortado_emu;

extern "C" {

// The signature of kernel `name` (I int, J long, F float, D double, P pointer), or null if there is none.
const char* emu_signature(const char* name) {
  auto it = registry().find(name);
  return it == registry().end() ? nullptr : it->second.signature;
}

int emu_kernel_count() { return (int)registry().size(); }

// Runs blocks, and the threads between two barriers, last first (1) or first first (0, the default).
void emu_set_reverse(int on) { reverse = on != 0; }

// Device memory: `bytes` with guards around them, every byte 0xff.
void* emu_alloc(size_t bytes) {
  unsigned char* raw = static_cast<unsigned char*>(std::malloc(bytes + 2 * GUARD));
  if (raw == nullptr) return nullptr;
  std::memset(raw, GUARD_BYTE, GUARD);
  std::memset(raw + GUARD, 0xff, bytes);
  std::memset(raw + GUARD + bytes, GUARD_BYTE, GUARD);
  blocks()[reinterpret_cast<uintptr_t>(raw + GUARD)] = bytes;
  return raw + GUARD;
}

// 0, or -1 when p is not a live allocation of this thread.
int emu_free(void* p) {
  auto it = blocks().find(reinterpret_cast<uintptr_t>(p));
  if (it == blocks().end()) return -1;
  blocks().erase(it);
  std::free(static_cast<unsigned char*>(p) - GUARD);
  return 0;
}

// Runs kernel `name` on a grid of (gx, gy, gz) blocks of `block` threads. `tags` has one letter per
// argument (as emu_signature) and `args` 8 bytes per argument. Returns 0, or -1 with the reason in
// `error` (size `cap`).
int emu_launch(const char* name, int gx, int gy, int gz, int block, int nargs, const char* tags,
               const uint64_t* args, char* error, int cap) {
  auto fail = [&](const std::string& m) {
    std::snprintf(error, cap, "%s", m.c_str());
    return -1;
  };
  auto it = registry().find(name);
  if (it == registry().end()) return fail(std::string("no kernel named ") + name);
  const Entry& e = it->second;
  const std::string want = e.signature;
  if ((int)want.size() != nargs) {
    return fail(std::string(name) + " takes " + std::to_string(want.size()) + " arguments (" + want + "), the call passes "
                + std::to_string(nargs) + " (" + std::string(tags, nargs) + ")");
  }
  for (int i = 0; i < nargs; i++) {
    if (want[i] != tags[i]) {
      return fail(std::string(name) + ": argument " + std::to_string(i) + " is " + want[i] + " in the kernel, the call"
                  " passes " + tags[i] + " (signature " + want + ", call " + std::string(tags, nargs) + "; I int, J long,"
                  " F float, D double, P pointer)");
    }
  }
  if (gx < 1 || gy < 1 || gz < 1 || gy > 65535 || gz > 65535) {
    return fail(std::string(name) + ": grid (" + std::to_string(gx) + ", " + std::to_string(gy) + ", "
                + std::to_string(gz) + ") out of CUDA's limits");
  }
  if (block < 1 || block > 1024) {
    return fail(std::string(name) + ": " + std::to_string(block) + " threads per block (CUDA allows 1 to 1024)");
  }
  static thread_local Launch* launch = nullptr;
  if (launch == nullptr) launch = new Launch();
  Launch& l = *launch;
  l.entry = e;
  l.args = args;
  while ((int)l.fibers.size() < block) {
    l.fibers.emplace_back();
    l.fibers.back().stack = static_cast<char*>(std::malloc(STACK));
  }
  running = &l;
  gridDim = {(unsigned)gx, (unsigned)gy, (unsigned)gz};
  blockDim = {(unsigned)block, 1, 1};
  std::string problem;
  for (int z = 0; z < gz && problem.empty(); z++) {
    for (int y = 0; y < gy && problem.empty(); y++) {
      for (int x = 0; x < gx && problem.empty(); x++) {
        blockIdx = reverse ? uint3{(unsigned)(gx - 1 - x), (unsigned)(gy - 1 - y), (unsigned)(gz - 1 - z)}
                           : uint3{(unsigned)x, (unsigned)y, (unsigned)z};
        problem = run_block(l);
      }
    }
  }
  running = nullptr;
  if (!problem.empty()) return fail(std::string(name) + ": " + problem);
  for (auto& [user, bytes] : blocks()) {
    if (!guards_intact(user, bytes)) {
      // mend them, so that the next launch is judged on its own
      std::memset(reinterpret_cast<unsigned char*>(user) - GUARD, GUARD_BYTE, GUARD);
      std::memset(reinterpret_cast<unsigned char*>(user) + bytes, GUARD_BYTE, GUARD);
      return fail(std::string(name) + " wrote outside a device array (of " + std::to_string(bytes) + " bytes)");
    }
  }
  return 0;
}
}
