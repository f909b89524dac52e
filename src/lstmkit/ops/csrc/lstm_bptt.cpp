// The LSTM recurrence in C++: with recurrent dropout (ops/bptt.py), forward and backward, each step a
// register-blocked recurrent product and one fused element-wise pass on blocks of rows; and plain inference
// for small batches (ops/infer_loop.py), a matrix-vector product and a gate pass per step and row.
//
// Same math and buffers as the pure-PyTorch loops in ops/bptt.py, which stay the fallback and the
// specification: gates [i, f, g, o] = [sig, sig, tanh, sig](xp_t + (h_{t-1} * mask) @ rk),
// c_t = f c_{t-1} + i g, h_t = o tanh(c_t). Buffers are time-major (T, B, ...) and contiguous.
// Registered as torch.ops.lstmkit_native.{bptt_forward, bptt_backward, lstm_infer}; built by ops/native.py.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/cpu/vec/vec.h>
#include <torch/library.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include <algorithm>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

namespace {

using at::Tensor;

template <typename scalar_t>
using Vec = at::vec::Vectorized<scalar_t>;

template <typename scalar_t>
inline Vec<scalar_t> sigmoid(const Vec<scalar_t>& x) {
  return (Vec<scalar_t>(scalar_t(1)) + x.neg().exp()).reciprocal();
}

// tanh(x) = 2 sigmoid(2x) - 1: one exp instead of Sleef's tanh, which costs several times as much
// (absolute error within a few units of the last place of 1).
template <typename scalar_t>
inline Vec<scalar_t> tanh(const Vec<scalar_t>& x) {
  const Vec<scalar_t> two(scalar_t(2));
  return two * sigmoid(two * x) - Vec<scalar_t>(scalar_t(1));
}

// Load/store `n` values (n < Vec::size() only for a row's tail).
template <typename scalar_t>
inline Vec<scalar_t> load(const scalar_t* p, int64_t n) {
  return n == Vec<scalar_t>::size() ? Vec<scalar_t>::loadu(p) : Vec<scalar_t>::loadu(p, n);
}

template <typename scalar_t>
inline void store(const Vec<scalar_t>& v, scalar_t* p, int64_t n) {
  if (n == Vec<scalar_t>::size()) v.store(p); else v.store(p, n);
}

// Rows of a batch are independent through the whole recurrence (each row's state depends only on its own
// past), so the training loops below give each thread blocks of rows for all the steps: no synchronisation
// between steps, and each step's recurrent product is a register-blocked kernel on the block's rows
// against the cache-resident recurrent kernel. Measured on a 2-core AVX-512 machine for (64, 128) @
// (128, 512): ATen's per-step BLAS call (MKL) 57-67 us on 2 threads (1.03x-1.5x its one-thread time, from
// process to process); this kernel 74 us on one thread, 37-38 us with the rows split over two.
constexpr int64_t kBlockRows = 8;

// out[r] = (add ? add[r] : 0) + a[r] @ b for ROWS rows: a (ROWS, K) with row stride lda; b (K, N), out and
// add (ROWS, N), all row-major and contiguous in N. ROWS x COLS vector accumulators stay in registers;
// each b load feeds ROWS multiply-adds.
template <typename scalar_t, int ROWS>
void rows_matmul(scalar_t* out, const scalar_t* add, const scalar_t* a, int64_t lda, const scalar_t* b,
                 int64_t K, int64_t N) {
  using V = Vec<scalar_t>;
  constexpr int64_t w = V::size();
  constexpr int COLS = 2;
  int64_t j = 0;
  for (; j + COLS * w <= N; j += COLS * w) {
    V acc[ROWS][COLS];
    for (int r = 0; r < ROWS; ++r) {
      for (int q = 0; q < COLS; ++q) acc[r][q] = add != nullptr ? V::loadu(add + r * N + j + q * w) : V(scalar_t(0));
    }
    for (int64_t k = 0; k < K; ++k) {
      const scalar_t* bk = b + k * N + j;
      V bv[COLS];
      for (int q = 0; q < COLS; ++q) bv[q] = V::loadu(bk + q * w);
      for (int r = 0; r < ROWS; ++r) {
        const V av(a[r * lda + k]);
        for (int q = 0; q < COLS; ++q) acc[r][q] = at::vec::fmadd(av, bv[q], acc[r][q]);
      }
    }
    for (int r = 0; r < ROWS; ++r) {
      for (int q = 0; q < COLS; ++q) acc[r][q].store(out + r * N + j + q * w);
    }
  }
  for (; j < N; j += w) {  // the last columns, one (partial) vector at a time
    const int64_t n = std::min<int64_t>(w, N - j);
    V acc[ROWS];
    for (int r = 0; r < ROWS; ++r) acc[r] = add != nullptr ? load(add + r * N + j, n) : V(scalar_t(0));
    for (int64_t k = 0; k < K; ++k) {
      const V bv = load(b + k * N + j, n);
      for (int r = 0; r < ROWS; ++r) acc[r] = at::vec::fmadd(V(a[r * lda + k]), bv, acc[r]);
    }
    for (int r = 0; r < ROWS; ++r) store(acc[r], out + r * N + j, n);
  }
}

// rows_matmul for any number of rows: blocks of 8, then 4, 2, 1.
template <typename scalar_t>
void block_matmul(scalar_t* out, const scalar_t* add, const scalar_t* a, int64_t lda, const scalar_t* b,
                  int64_t K, int64_t N, int64_t rows) {
  int64_t r = 0;
  auto next = [&](auto kernel, int64_t size) {
    for (; r + size <= rows; r += size) {
      kernel(out + r * N, add != nullptr ? add + r * N : nullptr, a + r * lda, lda, b, K, N);
    }
  };
  next(rows_matmul<scalar_t, 8>, 8);
  next(rows_matmul<scalar_t, 4>, 4);
  next(rows_matmul<scalar_t, 2>, 2);
  next(rows_matmul<scalar_t, 1>, 1);
}

// at::parallel_for over blocks of kBlockRows rows, in parallel only once a block's whole sequence is
// worth a thread (a parallel region costs a few microseconds).
template <typename F>
void for_row_blocks(int64_t batch, int64_t block_cost, const F& f) {
  const int64_t blocks = (batch + kBlockRows - 1) / kBlockRows;
  const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 18) / std::max<int64_t>(1, block_cost));
  at::parallel_for(0, blocks, grain, [&](int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; ++k) f(k * kBlockRows, std::min(batch, (k + 1) * kBlockRows));
  });
}

void check_inputs(const Tensor& xp, const Tensor& h0, const Tensor& c0, const Tensor& rk, const Tensor& mask) {
  TORCH_CHECK(xp.dim() == 3 && xp.is_contiguous(), "bptt_forward: xp must be a contiguous (T, B, 4u) tensor");
  const int64_t batch = xp.size(1), four_u = xp.size(2), u = four_u / 4;
  TORCH_CHECK(four_u == 4 * u && u > 0, "bptt_forward: xp's last dimension must be 4 * units, got ", four_u);
  for (const Tensor* t : {&h0, &c0, &mask}) {
    TORCH_CHECK(t->sizes() == at::IntArrayRef({batch, u}) && t->is_contiguous(),
                "bptt_forward: states and mask must be contiguous (", batch, ", ", u, ") tensors, got ", t->sizes());
  }
  TORCH_CHECK(rk.sizes() == at::IntArrayRef({u, four_u}), "bptt_forward: recurrent kernel must be (", u, ", ",
              four_u, "), got ", rk.sizes());
  for (const Tensor* t : {&h0, &c0, &rk, &mask}) {
    TORCH_CHECK(t->scalar_type() == xp.scalar_type() && t->device().is_cpu(),
                "bptt_forward: every input must be a CPU tensor of xp's dtype");
  }
}

// One step's gate pass for rows [begin, end): z holds the pre-activations and receives the activations.
template <typename scalar_t>
void forward_rows(scalar_t* z, const scalar_t* c_prev, scalar_t* c_next, scalar_t* tanh_c, scalar_t* h,
                  scalar_t* next_dropped, const scalar_t* mask, int64_t begin, int64_t end, int64_t u) {
  using V = Vec<scalar_t>;
  for (int64_t b = begin; b < end; ++b) {
    scalar_t* zb = z + b * 4 * u;
    const int64_t r = b * u;
    for (int64_t j = 0; j < u; j += V::size()) {
      const int64_t n = std::min<int64_t>(V::size(), u - j);
      const V i = sigmoid(load(zb + j, n));
      const V f = sigmoid(load(zb + u + j, n));
      const V g = tanh(load(zb + 2 * u + j, n));
      const V o = sigmoid(load(zb + 3 * u + j, n));
      store(i, zb + j, n);
      store(f, zb + u + j, n);
      store(g, zb + 2 * u + j, n);
      store(o, zb + 3 * u + j, n);
      const V c = f * load(c_prev + r + j, n) + i * g;
      store(c, c_next + r + j, n);
      const V tc = tanh(c);
      store(tc, tanh_c + r + j, n);
      const V hv = o * tc;
      store(hv, h + r + j, n);
      if (next_dropped != nullptr) store(hv * load(mask + r + j, n), next_dropped + r + j, n);
    }
  }
}

// (xp (T,B,4u), h0, c0 (B,u), rk (u,4u), mask (B,u)) -> (act, cells (T+1,B,u), tanh_cells, dropped, outputs)
std::tuple<Tensor, Tensor, Tensor, Tensor, Tensor> bptt_forward(const Tensor& xp, const Tensor& h0,
                                                                const Tensor& c0, const Tensor& rk,
                                                                const Tensor& mask) {
  check_inputs(xp, h0, c0, rk, mask);
  const int64_t steps = xp.size(0), batch = xp.size(1), u = xp.size(2) / 4;
  Tensor act = at::empty_like(xp);
  Tensor cells = xp.new_empty({steps + 1, batch, u});
  Tensor tanh_cells = xp.new_empty({steps, batch, u});
  Tensor dropped = xp.new_empty({steps, batch, u});
  Tensor outputs = xp.new_empty({steps, batch, u});
  cells[0].copy_(c0);
  if (steps > 0) {
    Tensor first = dropped[0];
    at::mul_out(first, h0, mask);
  }
  const int64_t gates = batch * 4 * u, state = batch * u;  // elements per step
  const Tensor recurrent = rk.contiguous();
  AT_DISPATCH_FLOATING_TYPES(xp.scalar_type(), "lstmkit_bptt_forward", [&] {
    const scalar_t* x = xp.data_ptr<scalar_t>();
    const scalar_t* r = recurrent.data_ptr<scalar_t>();
    const scalar_t* m = mask.data_ptr<scalar_t>();
    scalar_t* a = act.data_ptr<scalar_t>();
    scalar_t* c = cells.data_ptr<scalar_t>();
    scalar_t* tc = tanh_cells.data_ptr<scalar_t>();
    scalar_t* hd = dropped.data_ptr<scalar_t>();
    scalar_t* h = outputs.data_ptr<scalar_t>();
    for_row_blocks(batch, steps * kBlockRows * 4 * u * u, [&](int64_t begin, int64_t end) {
      for (int64_t t = 0; t < steps; ++t) {  // z = xp_t + (h_{t-1} * mask) @ rk, then the gate pass
        block_matmul<scalar_t>(a + t * gates + begin * 4 * u, x + t * gates + begin * 4 * u, hd + t * state + begin * u,
                               u, r, u, 4 * u, end - begin);
        forward_rows<scalar_t>(a + t * gates, c + t * state, c + (t + 1) * state, tc + t * state, h + t * state,
                               t + 1 < steps ? hd + (t + 1) * state : nullptr, m, begin, end, u);
      }
    });
  });
  return {act, cells, tanh_cells, dropped, outputs};
}

// One reverse step for rows [begin, end). dh = first ? dh_first : d_out_t + dh_next * mask (dh_next: the
// product of the step after, not yet masked). Writes dz (B,4u) and updates dc in place to dc * f (the carry to t-1).
template <typename scalar_t>
void backward_rows(scalar_t* dz, scalar_t* dc, const scalar_t* dh_first, const scalar_t* d_out_t,
                   const scalar_t* dh_next, const scalar_t* mask, const scalar_t* a, const scalar_t* c_prev,
                   const scalar_t* tanh_c, int64_t begin, int64_t end, int64_t u) {
  using V = Vec<scalar_t>;
  const V one(scalar_t(1));
  for (int64_t b = begin; b < end; ++b) {
    const scalar_t* ab = a + b * 4 * u;
    scalar_t* dzb = dz + b * 4 * u;
    const int64_t r = b * u;
    for (int64_t j = 0; j < u; j += V::size()) {
      const int64_t n = std::min<int64_t>(V::size(), u - j);
      V dh;
      if (dh_first != nullptr) {
        dh = load(dh_first + r + j, n);
      } else {
        dh = load(dh_next + r + j, n) * load(mask + r + j, n);
        if (d_out_t != nullptr) dh = dh + load(d_out_t + r + j, n);
      }
      const V i = load(ab + j, n), f = load(ab + u + j, n), g = load(ab + 2 * u + j, n),
              o = load(ab + 3 * u + j, n);
      const V tc = load(tanh_c + r + j, n);
      const V c = load(dc + r + j, n) + dh * o * (one - tc * tc);
      store(dh * tc * o * (one - o), dzb + 3 * u + j, n);
      store(c * g * i * (one - i), dzb + j, n);
      store(c * load(c_prev + r + j, n) * f * (one - f), dzb + u + j, n);
      store(c * i * (one - g * g), dzb + 2 * u + j, n);
      store(c * f, dc + r + j, n);
    }
  }
}

// -> (d_act (T,B,4u), dh0, dc0). d_out (T,B,u) may be absent (only the final state has a gradient).
std::tuple<Tensor, Tensor, Tensor> bptt_backward(const std::optional<Tensor>& d_out, const Tensor& d_h_last,
                                                 const Tensor& d_c_last, const Tensor& act, const Tensor& cells,
                                                 const Tensor& tanh_cells, const Tensor& rk, const Tensor& mask) {
  TORCH_CHECK(act.dim() == 3 && act.size(2) % 4 == 0, "bptt_backward: act must be a (T, B, 4u) tensor");
  const int64_t steps = act.size(0), batch = act.size(1), u = act.size(2) / 4;
  const std::pair<const Tensor*, std::vector<int64_t>> buffers[] = {
      {&act, {steps, batch, 4 * u}}, {&cells, {steps + 1, batch, u}}, {&tanh_cells, {steps, batch, u}},
      {&rk, {u, 4 * u}}, {&mask, {batch, u}}};
  for (const auto& [t, shape] : buffers) {
    TORCH_CHECK(t->sizes() == at::IntArrayRef(shape) && t->is_contiguous() && t->device().is_cpu() &&
                t->scalar_type() == act.scalar_type(), "bptt_backward: expected a contiguous CPU tensor of shape ",
                at::IntArrayRef(shape), " and act's dtype, got ", t->sizes());
  }
  const bool has_out = d_out.has_value() && d_out->defined();
  if (has_out) {
    TORCH_CHECK(d_out->sizes() == at::IntArrayRef({steps, batch, u}) && d_out->is_contiguous() &&
                d_out->scalar_type() == act.scalar_type(), "bptt_backward: d_out must be a contiguous (T, B, u) tensor");
  }
  for (const Tensor* t : {&d_h_last, &d_c_last}) {
    TORCH_CHECK(t->sizes() == at::IntArrayRef({batch, u}) && t->scalar_type() == act.scalar_type(),
                "bptt_backward: final-state gradients must be (B, u) tensors of the buffers' dtype");
  }
  Tensor d_act = at::empty_like(act);
  Tensor dc = d_c_last.clone(at::MemoryFormat::Contiguous);
  Tensor dh_first = (has_out ? (*d_out)[steps - 1] + d_h_last : d_h_last).contiguous();
  Tensor dh_next = act.new_empty({batch, u});
  const Tensor rk_t = rk.t().contiguous();  // (4u, u)
  const int64_t gates = batch * 4 * u, state = batch * u;  // elements per step
  AT_DISPATCH_FLOATING_TYPES(act.scalar_type(), "lstmkit_bptt_backward", [&] {
    const scalar_t* a = act.data_ptr<scalar_t>();
    const scalar_t* c = cells.data_ptr<scalar_t>();
    const scalar_t* tc = tanh_cells.data_ptr<scalar_t>();
    const scalar_t* dout = has_out ? d_out->data_ptr<scalar_t>() : nullptr;
    const scalar_t* rt = rk_t.data_ptr<scalar_t>();
    const scalar_t* m = mask.data_ptr<scalar_t>();
    scalar_t* dz = d_act.data_ptr<scalar_t>();
    scalar_t* dcs = dc.data_ptr<scalar_t>();
    scalar_t* dhn = dh_next.data_ptr<scalar_t>();
    const scalar_t* dh0 = dh_first.data_ptr<scalar_t>();
    for_row_blocks(batch, steps * kBlockRows * 4 * u * u, [&](int64_t begin, int64_t end) {
      for (int64_t t = steps - 1; t >= 0; --t) {  // the gate pass, then dh_next = dz_t @ rk^T for these rows
        const bool first = t == steps - 1;
        const scalar_t* d_out_t = dout != nullptr && !first ? dout + t * state : nullptr;
        backward_rows<scalar_t>(dz + t * gates, dcs, first ? dh0 : nullptr, d_out_t, dhn, m, a + t * gates,
                                c + t * state, tc + t * state, begin, end, u);
        block_matmul<scalar_t>(dhn + begin * u, nullptr, dz + t * gates + begin * 4 * u, 4 * u, rt, 4 * u, u,
                               end - begin);
      }
    });
  });
  return {d_act, dh_next * mask, dc};
}

// -- Inference: the plain LSTM, no dropout, nothing kept for a backward pass ----------------------
// Each row's recurrence is independent, so rows run in parallel for the whole sequence (no per-step
// synchronisation), and each step is a register-blocked matrix-vector product h @ rk read straight from
// the cache-resident recurrent kernel plus one fused gate pass. This beats oneDNN's kernel where its
// per-call setup dominates (small batches, short sequences: forecasting loops); ops/infer_loop.py says
// when it runs.

// z[k] = xp[k] + h[k] @ rk for ROWS rows at once (each rk load feeds ROWS multiply-adds): z[k], xp[k]
// (4u), h[k] (u), rk (u, 4u) row-major.
template <typename scalar_t, int ROWS>
void gates_gemv(scalar_t* const* z, const scalar_t* const* xp, const scalar_t* const* h, const scalar_t* rk,
                int64_t u) {
  using V = Vec<scalar_t>;
  constexpr int64_t w = V::size();
  const int64_t width = 4 * u;
  constexpr int COLS = ROWS == 1 ? 4 : 2;  // at least 4 independent multiply-add chains
  int64_t j = 0;
  for (; j + COLS * w <= width; j += COLS * w) {
    V a[ROWS][COLS];
    for (int k = 0; k < ROWS; ++k) {
      for (int q = 0; q < COLS; ++q) a[k][q] = V::loadu(xp[k] + j + q * w);
    }
    for (int64_t i = 0; i < u; ++i) {
      const scalar_t* r = rk + i * width + j;
      V rv[COLS];
      for (int q = 0; q < COLS; ++q) rv[q] = V::loadu(r + q * w);
      for (int k = 0; k < ROWS; ++k) {
        const V hv(h[k][i]);
        for (int q = 0; q < COLS; ++q) a[k][q] = at::vec::fmadd(hv, rv[q], a[k][q]);
      }
    }
    for (int k = 0; k < ROWS; ++k) {
      for (int q = 0; q < COLS; ++q) a[k][q].store(z[k] + j + q * w);
    }
  }
  for (; j < width; j += w) {
    const int64_t n = std::min<int64_t>(w, width - j);
    for (int k = 0; k < ROWS; ++k) {
      V a = load(xp[k] + j, n);
      for (int64_t i = 0; i < u; ++i) a = at::vec::fmadd(V(h[k][i]), load(rk + i * width + j, n), a);
      store(a, z[k] + j, n);
    }
  }
}

// From the pre-activations z (4u) of one row: c <- f c + i g, h <- o tanh(c).
template <typename scalar_t>
void gates_apply(const scalar_t* z, scalar_t* c, scalar_t* h, int64_t u) {
  using V = Vec<scalar_t>;
  for (int64_t j = 0; j < u; j += V::size()) {
    const int64_t n = std::min<int64_t>(V::size(), u - j);
    const V i = sigmoid(load(z + j, n)), f = sigmoid(load(z + u + j, n));
    const V g = tanh(load(z + 2 * u + j, n)), o = sigmoid(load(z + 3 * u + j, n));
    const V cv = f * load(c + j, n) + i * g;
    store(cv, c + j, n);
    store(o * tanh(cv), h + j, n);
  }
}

// (x (B,T,F), kernel (F,4u), bias (4u) or none, rk (u,4u), h0, c0 (B,u) or none for zeros, go_backwards)
//   -> (outputs (B,T,u) in processing order, h_T, c_T (B,u))
std::tuple<Tensor, Tensor, Tensor> lstm_infer(const Tensor& x, const Tensor& kernel, const std::optional<Tensor>& bias,
                                              const Tensor& rk, const std::optional<Tensor>& h0_,
                                              const std::optional<Tensor>& c0_, bool go_backwards) {
  TORCH_CHECK(x.dim() == 3 && kernel.dim() == 2 && kernel.size(0) == x.size(2) && kernel.size(1) % 4 == 0,
              "lstm_infer: expected x (B, T, F) and kernel (F, 4u), got ", x.sizes(), " and ", kernel.sizes());
  const int64_t batch = x.size(0), steps = x.size(1), u = kernel.size(1) / 4;
  TORCH_CHECK(u > 0 && rk.sizes() == at::IntArrayRef({u, 4 * u}), "lstm_infer: recurrent kernel must be (", u,
              ", ", 4 * u, "), got ", rk.sizes());
  const bool given = h0_.has_value() && h0_->defined();
  TORCH_CHECK(given == (c0_.has_value() && c0_->defined()), "lstm_infer: give both initial states or neither");
  const Tensor h0 = given ? *h0_ : x.new_zeros({batch, u});
  const Tensor c0 = given ? *c0_ : x.new_zeros({batch, u});
  for (const Tensor* t : {&h0, &c0}) {
    TORCH_CHECK(t->sizes() == at::IntArrayRef({batch, u}), "lstm_infer: states must be (", batch, ", ", u,
                "), got ", t->sizes());
  }
  const bool has_bias = bias.has_value() && bias->defined();
  for (const Tensor* t : {&kernel, &rk, &h0, &c0}) {
    TORCH_CHECK(t->scalar_type() == x.scalar_type() && t->device().is_cpu(),
                "lstm_infer: every input must be a CPU tensor of x's dtype");
  }
  TORCH_CHECK(!has_bias || (bias->sizes() == at::IntArrayRef({4 * u}) && bias->scalar_type() == x.scalar_type()),
              "lstm_infer: bias must be a (4u,) tensor of x's dtype");
  const Tensor flat = x.reshape({batch * steps, x.size(2)});
  const Tensor xp = (has_bias ? at::addmm(*bias, flat, kernel) : at::mm(flat, kernel)).contiguous();  // (B*T, 4u)
  const Tensor recurrent = rk.contiguous();
  Tensor outputs = x.new_empty({batch, steps, u});
  Tensor c = given ? c0.clone(at::MemoryFormat::Contiguous) : c0;
  Tensor h_last = given ? h0.clone(at::MemoryFormat::Contiguous) : h0;
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "lstmkit_lstm_infer", [&] {
    const scalar_t* p = xp.data_ptr<scalar_t>();
    const scalar_t* r = recurrent.data_ptr<scalar_t>();
    scalar_t* out = outputs.data_ptr<scalar_t>();
    scalar_t* cs = c.data_ptr<scalar_t>();
    scalar_t* hs = h_last.data_ptr<scalar_t>();
    // a block of rows costs steps * 4u^2 multiply-adds per row: parallel once a chunk is worth a thread
    constexpr int64_t block = 4;
    const int64_t blocks = (batch + block - 1) / block;
    const int64_t block_cost = std::max<int64_t>(1, block * steps * 4 * u * u);
    at::parallel_for(0, blocks, std::max<int64_t>(1, 16 * at::internal::GRAIN_SIZE / block_cost), [&](int64_t k0, int64_t k1) {
      std::vector<scalar_t> zs(block * 4 * u);
      for (int64_t k = k0; k < k1; ++k) {
        const int64_t first = k * block, rows = std::min<int64_t>(block, batch - first);
        scalar_t* z[block];
        const scalar_t* x_t[block];
        const scalar_t* h[block];
        for (int64_t q = 0; q < rows; ++q) {
          z[q] = zs.data() + q * 4 * u;
          h[q] = hs + (first + q) * u;
        }
        for (int64_t s = 0; s < steps; ++s) {
          const int64_t t = go_backwards ? steps - 1 - s : s;
          for (int64_t q = 0; q < rows; ++q) x_t[q] = p + ((first + q) * steps + t) * 4 * u;
          switch (rows) {
            case 4: gates_gemv<scalar_t, 4>(z, x_t, h, r, u); break;
            case 3: gates_gemv<scalar_t, 3>(z, x_t, h, r, u); break;
            case 2: gates_gemv<scalar_t, 2>(z, x_t, h, r, u); break;
            default: gates_gemv<scalar_t, 1>(z, x_t, h, r, u);
          }
          for (int64_t q = 0; q < rows; ++q) {
            scalar_t* h_out = out + ((first + q) * steps + s) * u;
            gates_apply<scalar_t>(z[q], cs + (first + q) * u, h_out, u);
            h[q] = h_out;
          }
        }
        for (int64_t q = 0; q < rows; ++q) std::copy(h[q], h[q] + u, hs + (first + q) * u);
      }
    });
  });
  return {outputs, h_last, c};
}

// How many threads an at::parallel_for in this library may use: torch.get_num_threads() when the library
// shares torch's OpenMP runtime (ops/native.py's link_flags), 1 when it was built without OpenMP.
int64_t parallel_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

}  // namespace

TORCH_LIBRARY(lstmkit_native, m) {
  m.def("parallel_threads() -> int", &parallel_threads);
  m.def("bptt_forward(Tensor xp, Tensor h0, Tensor c0, Tensor rk, Tensor mask) -> (Tensor, Tensor, Tensor, Tensor, Tensor)");
  m.def("lstm_infer(Tensor x, Tensor kernel, Tensor? bias, Tensor rk, Tensor? h0, Tensor? c0, bool go_backwards) -> (Tensor, Tensor, Tensor)");
  m.def("bptt_backward(Tensor? d_out, Tensor d_h_last, Tensor d_c_last, Tensor act, Tensor cells, Tensor tanh_cells, Tensor rk, Tensor mask) -> (Tensor, Tensor, Tensor)");
}

TORCH_LIBRARY_IMPL(lstmkit_native, CPU, m) {
  m.impl("bptt_forward", &bptt_forward);
  m.impl("bptt_backward", &bptt_backward);
  m.impl("lstm_infer", &lstm_infer);
}
