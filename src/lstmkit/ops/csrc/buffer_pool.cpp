// Large CPU buffers kept between training steps instead of handed back to the system (ops/buffer_pool.py).
//
// A training step of a big recurrent stack allocates the same few hundred megabytes every step (gates,
// oneDNN workspaces, gradients). glibc serves blocks over its mmap threshold (at most 32 MiB) with fresh
// mmaps and unmaps them on free, so every step faults every page in again: ~280,000 minor faults and a
// third of the step's time for W3's stack. Inside a scope opened with pool_enter on this thread, blocks of
// at least 64 KiB come from a cache of blocks freed earlier (sized in four classes per power of two) and go
// back to it; smaller ones and every other thread's go to the allocator that was installed before.
//
// Bound: idle plus in-use pool memory never exceeds the most this pool has had in use at once, so the
// cache costs no peak memory beyond what the steps already reached; the oldest idle blocks are freed first
// when a new size does not fit. Blocks freed while no scope is open anywhere are freed, not cached.
// pool_release frees the idle blocks. Registered as torch.ops.lstmkit_native.pool_{enter, exit, release,
// stats}; built with lstm_bptt.cpp by ops/native.py.
#include <c10/core/CPUAllocator.h>
#include <torch/library.h>

#include <pthread.h>

#include <cstdint>
#include <cstdlib>
#include <list>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

namespace {

constexpr size_t kSmallest = size_t(64) << 10;  // below this glibc's heap serves blocks without faults
constexpr size_t kAlignment = 64;                // c10's own CPU alignment

// n rounded up to one of four classes per power of two (at most 25 % unused, and never touched).
size_t size_class(size_t n) {
  const size_t power = size_t(1) << (63 - __builtin_clzll(n));
  const size_t step = power / 4;
  return (n + step - 1) / step * step;
}

struct Idle {
  void* ptr;
  size_t bytes;
};

struct Pool {
  std::mutex mutex;
  std::unordered_map<void*, size_t> owned;  // every live block of this pool (in use or idle) -> bytes
  std::list<Idle> idle;                     // oldest freed first
  std::unordered_map<size_t, std::vector<std::list<Idle>::iterator>> idle_by_size;
  size_t in_use = 0, cached = 0, peak = 0;
  int64_t scopes = 0, hits = 0, misses = 0;
  c10::Allocator* base = nullptr;  // the CPU allocator installed before this one
  bool installed = false;
};

Pool& pool() {
  static Pool* instance = new Pool();  // never destroyed: blocks may be freed during interpreter exit
  return *instance;
}

thread_local int64_t t_depth = 0;  // scopes open on this thread

void free_idle_locked(Pool& p, std::list<Idle>::iterator it) {
  auto& same = p.idle_by_size[it->bytes];
  for (auto s = same.begin(); s != same.end(); ++s) {
    if (*s == it) {
      same.erase(s);
      break;
    }
  }
  p.cached -= it->bytes;
  p.owned.erase(it->ptr);
  std::free(it->ptr);
  p.idle.erase(it);
}

void give_back(void* ptr) {
  if (ptr == nullptr) return;
  Pool& p = pool();
  {
    std::lock_guard<std::mutex> lock(p.mutex);
    auto found = p.owned.find(ptr);
    if (found != p.owned.end()) {
      const size_t bytes = found->second;
      p.in_use -= bytes;
      if (p.scopes > 0) {
        p.idle_by_size[bytes].push_back(p.idle.insert(p.idle.end(), Idle{ptr, bytes}));
        p.cached += bytes;
      } else {
        p.owned.erase(found);
        std::free(ptr);
      }
      return;
    }
  }
  p.base->raw_deleter()(ptr);  // the previous allocator's block, freed through this one's raw_deleter
}

void* take(size_t n) {
  Pool& p = pool();
  const size_t bytes = size_class(n);
  {
    std::lock_guard<std::mutex> lock(p.mutex);
    auto same = p.idle_by_size.find(bytes);
    if (same != p.idle_by_size.end() && !same->second.empty()) {
      auto it = same->second.back();
      same->second.pop_back();
      void* ptr = it->ptr;
      p.idle.erase(it);
      p.cached -= bytes;
      p.in_use += bytes;
      ++p.hits;
      return ptr;
    }
    ++p.misses;
    while (!p.idle.empty() && p.cached + p.in_use + bytes > p.peak) free_idle_locked(p, p.idle.begin());
  }
  void* ptr = nullptr;
  if (posix_memalign(&ptr, kAlignment, bytes) != 0) throw std::bad_alloc();
  std::lock_guard<std::mutex> lock(p.mutex);
  p.owned.emplace(ptr, bytes);
  p.in_use += bytes;
  if (p.in_use + p.cached > p.peak) p.peak = p.in_use + p.cached;
  return ptr;
}

struct PoolAllocator final : c10::Allocator {
  c10::DataPtr allocate(size_t n) override {
    if (t_depth == 0 || n < kSmallest) return pool().base->allocate(n);
    void* ptr = take(n);
    return {ptr, ptr, &give_back, c10::Device(c10::DeviceType::CPU)};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &give_back; }
  void copy_data(void* dest, const void* src, std::size_t count) const override {
    default_copy_data(dest, src, count);
  }
};

PoolAllocator g_allocator;

// A forked child (a DataLoader worker) starts with no scope open and an unlocked mutex.
void before_fork() { pool().mutex.lock(); }
void after_fork_parent() { pool().mutex.unlock(); }
void after_fork_child() {
  pool().mutex.unlock();
  pool().scopes = 0;
  t_depth = 0;
}

// Installs this allocator in front of the current one, once per process (on the first scope).
bool install() {
  static std::once_flag once;
  std::call_once(once, [] {
    Pool& p = pool();
    p.base = c10::GetCPUAllocator();
    c10::SetCPUAllocator(&g_allocator, 0);
    p.installed = c10::GetCPUAllocator() == &g_allocator;  // false when another has a higher priority
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);
  });
  return pool().installed;
}

void release_locked(Pool& p) {
  while (!p.idle.empty()) free_idle_locked(p, p.idle.begin());
  p.idle_by_size.clear();
  p.peak = p.in_use;
}

bool pool_enter() {
  if (!install()) return false;
  Pool& p = pool();
  std::lock_guard<std::mutex> lock(p.mutex);
  ++p.scopes;
  ++t_depth;
  return true;
}

void pool_exit(bool release) {
  Pool& p = pool();
  std::lock_guard<std::mutex> lock(p.mutex);
  if (t_depth == 0) return;  // no scope of this thread is open (entered before a fork, or never)
  --t_depth;
  --p.scopes;
  if (release && p.scopes == 0) release_locked(p);
}

void pool_release() {
  Pool& p = pool();
  std::lock_guard<std::mutex> lock(p.mutex);
  release_locked(p);
}

// [installed, scopes open, bytes in use, bytes idle, peak bytes, hits, misses]
std::vector<int64_t> pool_stats() {
  Pool& p = pool();
  std::lock_guard<std::mutex> lock(p.mutex);
  return {int64_t(p.installed), p.scopes, int64_t(p.in_use), int64_t(p.cached), int64_t(p.peak), p.hits, p.misses};
}

}  // namespace

TORCH_LIBRARY_FRAGMENT(lstmkit_native, m) {
  m.def("pool_enter() -> bool", &pool_enter);
  m.def("pool_exit(bool release) -> ()", &pool_exit);
  m.def("pool_release() -> ()", &pool_release);
  m.def("pool_stats() -> int[]", &pool_stats);
}
