// Large CPU buffers kept between training steps instead of handed back to the system (ops/buffer_pool.py).
//
// A training step of a big recurrent stack allocates the same buffers every step (~1.7 GB for W3: gates,
// oneDNN workspaces, gradients). glibc serves blocks over its mmap threshold (at most 32 MiB) with fresh
// mmaps and unmaps them on free, so every step faults every page in again: ~280,000 minor faults and a
// third of the step's time for W3's stack. Inside a scope opened with pool_enter on this thread, blocks of
// at least 64 KiB come from a cache of blocks freed earlier (sized in four classes per power of two) and go
// back to it; smaller ones and every other thread's go to the allocator that was installed before. A scope
// is a token (pool_enter's result) naming the thread that opened it, so it closes whichever thread ends it.
//
// Bound: idle plus in-use pool memory never exceeds the most this pool has had in use at once (`peak`), so
// the cache costs no peak memory beyond what the steps already reached; the oldest idle blocks are freed
// first when a new size does not fit, and all of them before an allocation is allowed to fail. Blocks
// freed while no scope is open anywhere are freed, not cached. pool_release frees the idle blocks.
// Registered as torch.ops.lstmkit_native.pool_{enter, exit, release, stats}; built with lstm_bptt.cpp by
// ops/native.py.
#include <c10/core/CPUAllocator.h>
#include <c10/util/Exception.h>
#include <torch/library.h>

#ifndef _WIN32
#include <pthread.h>
#endif

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

namespace {

constexpr size_t kSmallest = size_t(64) << 10;  // below this glibc's heap serves blocks without faults
constexpr size_t kAlignment = 64;                // c10's own CPU alignment

// n rounded up to one of four classes per power of two (at most 25 % unused, and never touched).
size_t size_class(size_t n) {
  size_t power = 1;  // the highest power of two <= n
  while (power <= n / 2) power <<= 1;
  const size_t step = power / 4;
  return (n + step - 1) / step * step;
}

void* aligned_block(size_t bytes) {
#ifdef _WIN32
  return _aligned_malloc(bytes, kAlignment);
#else
  void* ptr = nullptr;
  return posix_memalign(&ptr, kAlignment, bytes) == 0 ? ptr : nullptr;
#endif
}

void free_block(void* ptr) {
#ifdef _WIN32
  _aligned_free(ptr);
#else
  std::free(ptr);
#endif
}

struct Idle {
  void* ptr;
  size_t bytes;
};

using IdleList = std::list<Idle>;

struct Pool {
  std::mutex mutex;
  std::unordered_map<void*, size_t> owned;  // every live block of this pool (in use or idle) -> bytes
  IdleList idle;                            // oldest freed first
  std::unordered_map<size_t, std::vector<IdleList::iterator>> idle_by_size;
  size_t in_use = 0, cached = 0, peak = 0;
  int64_t scopes = 0, hits = 0, misses = 0;
  // One depth per thread that ever opened a scope, never freed (a token indexes it, and the thread's
  // allocations read it without the lock).
  std::vector<std::atomic<int64_t>*> depths;
  c10::Allocator* base = nullptr;  // the CPU allocator installed before this one
  c10::Allocator* self = nullptr;
  bool installed = false;
};

Pool& pool() {
  static Pool* instance = new Pool();  // never destroyed: blocks may be freed during interpreter exit
  return *instance;
}

thread_local std::atomic<int64_t>* t_depth = nullptr;  // this thread's entry in Pool::depths
thread_local int64_t t_token = -1;

// Room for one more element, grown geometrically, so the push_back that follows cannot throw.
template <typename T>
void reserve_one(std::vector<T>& v) {
  if (v.size() == v.capacity()) v.reserve(std::max<size_t>(8, 2 * v.size()));
}

// Takes a block out of the idle containers (the caller holds the lock).
void unlink_idle(Pool& p, IdleList::iterator it) {
  auto& same = p.idle_by_size[it->bytes];
  for (auto s = same.begin(); s != same.end(); ++s) {
    if (*s == it) {
      same.erase(s);
      break;
    }
  }
  p.cached -= it->bytes;
  p.owned.erase(it->ptr);
  p.idle.erase(it);
}

void give_back(void* ptr) noexcept {
  if (ptr == nullptr) return;
  Pool& p = pool();
  {
    std::lock_guard<std::mutex> lock(p.mutex);
    auto found = p.owned.find(ptr);
    if (found != p.owned.end()) {
      const size_t bytes = found->second;
      p.in_use -= bytes;
      if (p.scopes > 0) {
        try {  // a deleter must not throw: without room to note the block, it is freed instead
          auto& same = p.idle_by_size[bytes];
          reserve_one(same);
          same.push_back(p.idle.insert(p.idle.end(), Idle{ptr, bytes}));
          p.cached += bytes;
          return;
        } catch (...) {
        }
      }
      p.owned.erase(found);
      free_block(ptr);
      return;
    }
  }
  p.base->raw_deleter()(ptr);  // the previous allocator's block, freed through this one's raw_deleter
}

// Frees idle blocks, oldest first, until `fits(p)` or none is left (outside the lock).
template <typename Fits>
void trim(Pool& p, std::unique_lock<std::mutex>& lock, Fits fits) {
  std::vector<void*> freed;
  while (!p.idle.empty() && !fits(p)) {
    freed.push_back(p.idle.front().ptr);
    unlink_idle(p, p.idle.begin());
  }
  if (freed.empty()) return;
  lock.unlock();
  for (void* ptr : freed) free_block(ptr);
  lock.lock();
}

void* take(size_t n) {
  Pool& p = pool();
  const size_t bytes = size_class(n);
  std::unique_lock<std::mutex> lock(p.mutex);
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
  trim(p, lock, [bytes](const Pool& q) { return q.cached + q.in_use + bytes <= q.peak; });
  p.in_use += bytes;  // reserved before allocating, so threads missing together keep the bound
  p.peak = std::max(p.peak, p.in_use + p.cached);
  lock.unlock();
  void* ptr = aligned_block(bytes);
  if (ptr == nullptr) {
    lock.lock();
    trim(p, lock, [](const Pool&) { return false; });  // every idle block, then once more
    lock.unlock();
    ptr = aligned_block(bytes);
    if (ptr == nullptr) {
      lock.lock();
      p.in_use -= bytes;
      TORCH_CHECK_WITH(OutOfMemoryError, false, "lstmkit buffer pool: not enough memory: you tried to allocate ",
                       n, " bytes.");
    }
  }
  lock.lock();
  try {
    p.owned.insert_or_assign(ptr, bytes);
  } catch (...) {
    p.in_use -= bytes;
    free_block(ptr);
    throw;
  }
  return ptr;
}

struct PoolAllocator final : c10::Allocator {
  c10::DataPtr allocate(size_t n) override {
    const std::atomic<int64_t>* depth = t_depth;
    if (depth == nullptr || n < kSmallest || depth->load(std::memory_order_relaxed) == 0) {
      return pool().base->allocate(n);
    }
    void* ptr = take(n);
    return {ptr, ptr, &give_back, c10::Device(c10::DeviceType::CPU)};
  }
  // Blocks are handed out with either deleter; give_back frees both kinds (oneDNN's raw_deallocate
  // reaches it for blocks the previous allocator gave).
  c10::DeleterFnPtr raw_deleter() const override { return &give_back; }
  void copy_data(void* dest, const void* src, std::size_t count) const override {
    default_copy_data(dest, src, count);
  }
};

#ifndef _WIN32
// A forked child (a DataLoader worker) starts with no scope open and an unlocked mutex.
void before_fork() { pool().mutex.lock(); }
void after_fork_parent() { pool().mutex.unlock(); }
void after_fork_child() {
  Pool& p = pool();
  for (auto* depth : p.depths) depth->store(0);
  p.scopes = 0;
  p.mutex.unlock();
}
#endif

// Installs this allocator in front of the current one, once per process (on the first scope).
void install() {
  static std::once_flag once;
  std::call_once(once, [] {
    Pool& p = pool();
    p.base = c10::GetCPUAllocator();
    if (p.base == nullptr || p.base->raw_deleter() == nullptr) return;  // its blocks could not be freed
    p.self = new PoolAllocator();  // never destroyed: c10's table points at it until the process ends
    c10::SetCPUAllocator(p.self, 0);
    p.installed = c10::GetCPUAllocator() == p.self;  // false when another has a higher priority
#ifndef _WIN32
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);
#endif
  });
}

// Opens a scope on this thread; its token for pool_exit, or -1 when the pool is not in front of torch's
// CPU allocator (not installable, or replaced since).
int64_t pool_enter() {
  install();
  Pool& p = pool();
  if (!p.installed || c10::GetCPUAllocator() != p.self) return -1;
  std::lock_guard<std::mutex> lock(p.mutex);
  if (t_depth == nullptr) {
    reserve_one(p.depths);
    p.depths.push_back(new std::atomic<int64_t>(0));
    t_depth = p.depths.back();
    t_token = int64_t(p.depths.size()) - 1;
  }
  if (p.scopes == 0 && p.cached == 0) p.peak = p.in_use;  // nothing kept: blocks freed since count no more
  t_depth->fetch_add(1);
  ++p.scopes;
  return t_token;
}

void release_locked(Pool& p, std::unique_lock<std::mutex>& lock) {
  trim(p, lock, [](const Pool&) { return false; });
  for (auto it = p.idle_by_size.begin(); it != p.idle_by_size.end();) {
    it = it->second.empty() ? p.idle_by_size.erase(it) : std::next(it);
  }
  p.peak = p.in_use + p.cached;  // cached: blocks another thread's scope freed meanwhile
}

// Closes a scope opened by pool_enter (on any thread); the outermost one frees the idle blocks if asked.
void pool_exit(int64_t token, bool release) {
  Pool& p = pool();
  std::unique_lock<std::mutex> lock(p.mutex);
  if (token < 0 || token >= int64_t(p.depths.size()) || p.depths[token]->load() == 0 || p.scopes == 0) {
    return;  // not open (entered before a fork, or already closed)
  }
  p.depths[token]->fetch_sub(1);
  --p.scopes;
  if (release && p.scopes == 0) release_locked(p, lock);
}

void pool_release() {
  Pool& p = pool();
  std::unique_lock<std::mutex> lock(p.mutex);
  release_locked(p, lock);
}

// [installed, scopes open, bytes in use, bytes idle, peak bytes, hits, misses]
std::vector<int64_t> pool_stats() {
  Pool& p = pool();
  std::lock_guard<std::mutex> lock(p.mutex);
  const bool installed = p.installed && c10::GetCPUAllocator() == p.self;
  return {int64_t(installed), p.scopes, int64_t(p.in_use), int64_t(p.cached), int64_t(p.peak), p.hits, p.misses};
}

}  // namespace

TORCH_LIBRARY_FRAGMENT(lstmkit_native, m) {
  m.def("pool_enter() -> int", &pool_enter);
  m.def("pool_exit(int token, bool release) -> ()", &pool_exit);
  m.def("pool_release() -> ()", &pool_release);
  m.def("pool_stats() -> int[]", &pool_stats);
}
