// concept_torch.cpp — implementation of the C ABI declared in concept_torch.h.
//
// Every exported function is a one-liner around an ATen call wrapped in a GUARD macro: C++ exceptions
// (shape mismatches, dtype errors, out-of-memory) are caught and stored in a thread-local string that the C#
// side turns into a TorchException. Builds against libtorch 1.13 (Debian) and 2.x (official / pip builds).
#include "concept_torch.h"

#include <torch/torch.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>

#include <atomic>
#include <malloc.h>
#include <cstdlib>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

namespace {

thread_local std::string g_error;
thread_local bool g_has_error = false;
std::atomic<int64_t> g_live{0};

void set_error(const char* what) {
  g_error = what ? what : "unknown error";
  g_has_error = true;
}

// Wrap a result into a caller-owned handle.
ct_tensor wrap(at::Tensor t) {
  g_live.fetch_add(1, std::memory_order_relaxed);
  return new at::Tensor(std::move(t));
}
inline at::Tensor& T(ct_tensor h) { return *static_cast<at::Tensor*>(h); }
inline c10::optional<at::Tensor> opt(ct_tensor h) {
  if (!h) return c10::nullopt;
  return T(h);
}
inline at::Tensor or_undefined(ct_tensor h) { return h ? T(h) : at::Tensor(); }

at::ScalarType scalar_type(int code) {
  switch (code) {
    case CT_F32: return at::kFloat;
    case CT_F64: return at::kDouble;
    case CT_F16: return at::kHalf;
    case CT_BF16: return at::kBFloat16;
    case CT_I64: return at::kLong;
    case CT_I32: return at::kInt;
    case CT_BOOL: return at::kBool;
    case CT_U8: return at::kByte;
  }
  throw std::invalid_argument("unknown dtype code " + std::to_string(code));
}
int dtype_code(at::ScalarType s) {
  switch (s) {
    case at::kFloat: return CT_F32;
    case at::kDouble: return CT_F64;
    case at::kHalf: return CT_F16;
    case at::kBFloat16: return CT_BF16;
    case at::kLong: return CT_I64;
    case at::kInt: return CT_I32;
    case at::kBool: return CT_BOOL;
    case at::kByte: return CT_U8;
    default: return -1;
  }
}
at::Device device_of(int device, int index) {
  if (device == CT_CPU) return at::Device(at::kCPU);
  if (device == CT_CUDA) return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(index < 0 ? 0 : index));
  throw std::invalid_argument("unknown device code " + std::to_string(device));
}
at::TensorOptions options(int dtype, int device, int index) {
  return at::TensorOptions().dtype(scalar_type(dtype)).device(device_of(device, index));
}
std::vector<at::Tensor> tensors(const ct_tensor* ts, int n) {
  std::vector<at::Tensor> v;
  v.reserve(n);
  for (int i = 0; i < n; ++i) v.push_back(T(ts[i]));
  return v;
}
at::IntArrayRef ints(const int64_t* p, int n) { return at::IntArrayRef(p, static_cast<size_t>(n)); }

// Random draws with an explicit generator happen on the CPU and are then moved: the same seed gives the same
// numbers on every device, and a CPU generator's state can be saved and restored for exact resumption.
c10::optional<at::Generator> gen_of(ct_generator g) {
  if (!g) return c10::nullopt;
  return *static_cast<at::Generator*>(g);
}

// glibc serves every block above 128 KiB with a fresh mmap and unmaps it on free, so a training step that
// allocates and frees the same activations again and again spends most of its time in page faults (measured:
// UNet step 2.3x slower, 66% system time). Keep freed memory in the heap instead, as jemalloc/tcmalloc would.
// Skipped when the user tunes malloc himself (GLIBC_TUNABLES set).
__attribute__((constructor)) void keep_freed_memory() {
  if (std::getenv("GLIBC_TUNABLES") != nullptr) return;
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);  // the largest value glibc accepts on 64-bit
  mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024);
}

}  // namespace

#define GUARD_BEGIN try {
#define GUARD_END(fail)                                             \
  }                                                                 \
  catch (const c10::Error& e) {                                     \
    set_error(e.what_without_backtrace());                          \
    return fail;                                                    \
  }                                                                 \
  catch (const std::exception& e) {                                 \
    set_error(e.what());                                            \
    return fail;                                                    \
  }                                                                 \
  catch (...) {                                                     \
    set_error("unknown C++ exception");                             \
    return fail;                                                    \
  }
// A function whose whole body is "return a new handle for <expr>".
#define RETURN_TENSOR(expr) GUARD_BEGIN return wrap(expr); GUARD_END(nullptr)
// A function whose body is statements and returns 0 on success.
#define RETURN_STATUS(stmts) GUARD_BEGIN stmts; return 0; GUARD_END(-1)

// ---- errors, runtime --------------------------------------------------------------------------------------
CT_API const char* ct_last_error(void) { return g_has_error ? g_error.c_str() : nullptr; }
CT_API void ct_clear_error(void) { g_has_error = false; g_error.clear(); }
CT_API const char* ct_version(void) { return TORCH_VERSION; }
CT_API int64_t ct_live_handles(void) { return g_live.load(); }
CT_API void ct_set_num_threads(int n) { at::set_num_threads(n); }
CT_API int ct_get_num_threads(void) { return at::get_num_threads(); }
CT_API int ct_cuda_is_available(void) { return torch::cuda::is_available() ? 1 : 0; }
CT_API int ct_cuda_device_count(void) { return static_cast<int>(torch::cuda::device_count()); }
CT_API int ct_cuda_synchronize(void) { RETURN_STATUS(if (torch::cuda::is_available()) torch::cuda::synchronize()) }
CT_API int ct_set_deterministic(int on) { RETURN_STATUS(at::globalContext().setDeterministicAlgorithms(on != 0, false)) }
CT_API void ct_manual_seed(uint64_t seed) { torch::manual_seed(seed); }
CT_API int ct_set_grad_enabled(int on) {
  bool prev = c10::GradMode::is_enabled();
  c10::GradMode::set_enabled(on != 0);
  return prev ? 1 : 0;
}
CT_API int ct_is_grad_enabled(void) { return c10::GradMode::is_enabled() ? 1 : 0; }
CT_API const char* ct_config(void) {
  static std::string cfg = at::show_config() + "\n" + at::get_parallel_info();
  return cfg.c_str();
}
// Cost of one `a + b` on 1-element tensors inside C++ (ns), the floor the C# dispatch is compared against.
CT_API double ct_bench_native_add(int64_t iters) {
  try {
    at::Tensor a = at::ones({1}), b = at::ones({1});
    at::Tensor c;
    for (int i = 0; i < 1000; ++i) c = a + b;
    auto t0 = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < iters; ++i) c = a + b;
    auto t1 = std::chrono::steady_clock::now();
    return std::chrono::duration<double, std::nano>(t1 - t0).count() / static_cast<double>(iters);
  } catch (const std::exception& e) {
    set_error(e.what());
    return -1;
  }
}

// ---- generators ----------------------------------------------------------------------------------------
CT_API ct_generator ct_generator_new(uint64_t seed) {
  GUARD_BEGIN return new at::Generator(at::make_generator<at::CPUGeneratorImpl>(seed)); GUARD_END(nullptr)
}
CT_API void ct_generator_free(ct_generator g) { delete static_cast<at::Generator*>(g); }
CT_API ct_tensor ct_generator_get_state(ct_generator g) {
  GUARD_BEGIN
  at::Generator gen = g ? *static_cast<at::Generator*>(g) : at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return wrap(gen.get_state());
  GUARD_END(nullptr)
}
CT_API int ct_generator_set_state(ct_generator g, ct_tensor state) {
  GUARD_BEGIN
  at::Generator gen = g ? *static_cast<at::Generator*>(g) : at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(T(state));
  return 0;
  GUARD_END(-1)
}

// ---- lifecycle and metadata -------------------------------------------------------------------------
CT_API void ct_free(ct_tensor t) {
  if (!t) return;
  delete static_cast<at::Tensor*>(t);
  g_live.fetch_sub(1, std::memory_order_relaxed);
}
CT_API int ct_dim(ct_tensor t) { GUARD_BEGIN return static_cast<int>(T(t).dim()); GUARD_END(-1) }
CT_API int ct_sizes(ct_tensor t, int64_t* out, int cap) {
  GUARD_BEGIN
  auto s = T(t).sizes();
  int n = static_cast<int>(s.size());
  for (int i = 0; i < n && i < cap; ++i) out[i] = s[i];
  return n;
  GUARD_END(-1)
}
CT_API int ct_dtype(ct_tensor t) { GUARD_BEGIN return dtype_code(T(t).scalar_type()); GUARD_END(-1) }
CT_API int ct_device(ct_tensor t, int* index) {
  GUARD_BEGIN
  auto d = T(t).device();
  *index = d.has_index() ? d.index() : 0;
  return d.is_cuda() ? CT_CUDA : CT_CPU;
  GUARD_END(-1)
}
CT_API int64_t ct_numel(ct_tensor t) { GUARD_BEGIN return T(t).numel(); GUARD_END(-1) }
CT_API int ct_requires_grad(ct_tensor t) { GUARD_BEGIN return T(t).requires_grad() ? 1 : 0; GUARD_END(-1) }
CT_API int ct_set_requires_grad(ct_tensor t, int on) { RETURN_STATUS(T(t).requires_grad_(on != 0)) }
CT_API int ct_is_leaf(ct_tensor t) { GUARD_BEGIN return T(t).is_leaf() ? 1 : 0; GUARD_END(-1) }
CT_API int ct_grad(ct_tensor t, ct_tensor* out) {
  GUARD_BEGIN
  const at::Tensor& g = T(t).grad();
  *out = g.defined() ? wrap(g) : nullptr;
  return 0;
  GUARD_END(-1)
}
CT_API int ct_set_grad_none(ct_tensor t) { RETURN_STATUS(T(t).mutable_grad().reset()) }
CT_API int ct_copy_to_host(ct_tensor t, void* dst, int64_t nbytes) {
  GUARD_BEGIN
  at::Tensor c = T(t).detach().to(at::kCPU).contiguous();
  int64_t have = c.numel() * static_cast<int64_t>(c.element_size());
  if (have != nbytes) throw std::invalid_argument("copy_to_host: buffer holds " + std::to_string(nbytes) +
                                                  " bytes, tensor needs " + std::to_string(have));
  std::memcpy(dst, c.data_ptr(), static_cast<size_t>(nbytes));
  return 0;
  GUARD_END(-1)
}
CT_API int ct_item(ct_tensor t, double* out) { RETURN_STATUS(*out = T(t).item().toDouble()) }

// ---- creation ------------------------------------------------------------------------------------------
CT_API ct_tensor ct_from_data(const void* src, const int64_t* sizes, int ndim, int dtype, int device, int index) {
  RETURN_TENSOR(at::from_blob(const_cast<void*>(src), ints(sizes, ndim), at::TensorOptions().dtype(scalar_type(dtype)))
                    .to(device_of(device, index), /*non_blocking=*/false, /*copy=*/true))
}
CT_API ct_tensor ct_full(const int64_t* sizes, int ndim, double value, int dtype, int device, int index) {
  RETURN_TENSOR(at::full(ints(sizes, ndim), value, options(dtype, device, index)))
}
CT_API ct_tensor ct_empty(const int64_t* sizes, int ndim, int dtype, int device, int index) {
  RETURN_TENSOR(at::empty(ints(sizes, ndim), options(dtype, device, index)))
}
CT_API ct_tensor ct_arange(double start, double end, double step, int dtype, int device, int index) {
  RETURN_TENSOR(at::arange(start, end, step, options(dtype, device, index)))
}
CT_API ct_tensor ct_linspace(double start, double end, int64_t steps, int dtype, int device, int index) {
  RETURN_TENSOR(at::linspace(start, end, steps, options(dtype, device, index)))
}
CT_API ct_tensor ct_eye(int64_t n, int dtype, int device, int index) { RETURN_TENSOR(at::eye(n, options(dtype, device, index))) }
CT_API ct_tensor ct_random(int kind, const int64_t* sizes, int ndim, ct_generator g, int dtype, int device, int index) {
  GUARD_BEGIN
  auto cpu = at::TensorOptions().dtype(at::kFloat);
  at::Tensor r = kind == CT_RANDN ? at::randn(ints(sizes, ndim), gen_of(g), cpu) : at::rand(ints(sizes, ndim), gen_of(g), cpu);
  return wrap(r.to(options(dtype, device, index)));
  GUARD_END(nullptr)
}
CT_API ct_tensor ct_randint(int64_t low, int64_t high, const int64_t* sizes, int ndim, ct_generator g, int device, int index) {
  RETURN_TENSOR(at::randint(low, high, ints(sizes, ndim), gen_of(g), at::TensorOptions().dtype(at::kLong))
                    .to(device_of(device, index)))
}
CT_API ct_tensor ct_randperm(int64_t n, ct_generator g, int device, int index) {
  RETURN_TENSOR(at::randperm(n, gen_of(g), at::TensorOptions().dtype(at::kLong)).to(device_of(device, index)))
}
CT_API ct_tensor ct_multinomial(ct_tensor probs, int64_t n, int replacement, ct_generator g) {
  GUARD_BEGIN
  at::Tensor p = T(probs);
  return wrap(at::multinomial(p.to(at::kCPU), n, replacement != 0, gen_of(g)).to(p.device()));
  GUARD_END(nullptr)
}
CT_API int ct_fill_random_(ct_tensor t, int kind, double a, double b, ct_generator g) {
  GUARD_BEGIN
  at::Tensor& x = T(t);
  at::Tensor r = at::empty(x.sizes(), at::TensorOptions().dtype(at::kFloat));
  if (kind == CT_RANDN) r.normal_(a, b, gen_of(g)); else r.uniform_(a, b, gen_of(g));
  at::NoGradGuard ng;
  x.copy_(r);
  return 0;
  GUARD_END(-1)
}

// ---- conversion, copies --------------------------------------------------------------------------------
CT_API ct_tensor ct_to(ct_tensor t, int dtype, int device, int index, int copy) {
  GUARD_BEGIN
  const at::Tensor& x = T(t);
  at::ScalarType st = dtype < 0 ? x.scalar_type() : scalar_type(dtype);
  at::Device dev = device < 0 ? x.device() : device_of(device, index);
  return wrap(x.to(dev, st, /*non_blocking=*/false, copy != 0));
  GUARD_END(nullptr)
}
CT_API ct_tensor ct_clone(ct_tensor t) { RETURN_TENSOR(T(t).clone()) }
CT_API ct_tensor ct_detach(ct_tensor t) { RETURN_TENSOR(T(t).detach()) }
CT_API ct_tensor ct_contiguous(ct_tensor t) { RETURN_TENSOR(T(t).contiguous()) }
CT_API ct_tensor ct_alias(ct_tensor t) { RETURN_TENSOR(T(t)) }
CT_API int ct_set_data(ct_tensor t, ct_tensor src) { RETURN_STATUS(T(t).set_data(T(src))) }

// ---- views and shape ops -------------------------------------------------------------------------------
CT_API ct_tensor ct_reshape(ct_tensor t, const int64_t* s, int n) { RETURN_TENSOR(T(t).reshape(ints(s, n))) }
CT_API ct_tensor ct_view(ct_tensor t, const int64_t* s, int n) { RETURN_TENSOR(T(t).view(ints(s, n))) }
CT_API ct_tensor ct_permute(ct_tensor t, const int64_t* d, int n) { RETURN_TENSOR(T(t).permute(ints(d, n))) }
CT_API ct_tensor ct_transpose(ct_tensor t, int64_t d0, int64_t d1) { RETURN_TENSOR(T(t).transpose(d0, d1)) }
CT_API ct_tensor ct_slice(ct_tensor t, int64_t dim, int64_t start, int64_t end, int64_t step) {
  RETURN_TENSOR(T(t).slice(dim, start, end, step))
}
CT_API ct_tensor ct_select(ct_tensor t, int64_t dim, int64_t index) { RETURN_TENSOR(T(t).select(dim, index)) }
CT_API ct_tensor ct_index_select(ct_tensor t, int64_t dim, ct_tensor index) { RETURN_TENSOR(T(t).index_select(dim, T(index))) }
CT_API ct_tensor ct_gather(ct_tensor t, int64_t dim, ct_tensor index) { RETURN_TENSOR(T(t).gather(dim, T(index))) }
CT_API ct_tensor ct_masked_select(ct_tensor t, ct_tensor mask) { RETURN_TENSOR(T(t).masked_select(T(mask))) }
CT_API ct_tensor ct_cat(const ct_tensor* ts, int n, int64_t dim) { RETURN_TENSOR(at::cat(tensors(ts, n), dim)) }
CT_API ct_tensor ct_stack(const ct_tensor* ts, int n, int64_t dim) { RETURN_TENSOR(at::stack(tensors(ts, n), dim)) }
CT_API int ct_chunk(ct_tensor t, int64_t chunks, int64_t dim, ct_tensor* out, int cap) {
  GUARD_BEGIN
  auto parts = T(t).chunk(chunks, dim);
  int n = static_cast<int>(parts.size());
  if (n > cap) throw std::invalid_argument("chunk: more parts than the output array holds");
  for (int i = 0; i < n; ++i) out[i] = wrap(parts[i]);
  return n;
  GUARD_END(-1)
}
CT_API ct_tensor ct_expand(ct_tensor t, const int64_t* s, int n) { RETURN_TENSOR(T(t).expand(ints(s, n))) }
CT_API ct_tensor ct_repeat(ct_tensor t, const int64_t* r, int n) { RETURN_TENSOR(T(t).repeat(ints(r, n))) }
CT_API ct_tensor ct_flatten(ct_tensor t, int64_t start, int64_t end) { RETURN_TENSOR(T(t).flatten(start, end)) }
CT_API ct_tensor ct_squeeze(ct_tensor t, int64_t dim, int all) { RETURN_TENSOR(all ? T(t).squeeze() : T(t).squeeze(dim)) }
CT_API ct_tensor ct_unsqueeze(ct_tensor t, int64_t dim) { RETURN_TENSOR(T(t).unsqueeze(dim)) }
CT_API ct_tensor ct_flip(ct_tensor t, const int64_t* d, int n) { RETURN_TENSOR(T(t).flip(ints(d, n))) }
CT_API ct_tensor ct_roll(ct_tensor t, const int64_t* s, const int64_t* d, int n) { RETURN_TENSOR(T(t).roll(ints(s, n), ints(d, n))) }
CT_API ct_tensor ct_tril(ct_tensor t, int64_t diagonal, int upper) { RETURN_TENSOR(upper ? T(t).triu(diagonal) : T(t).tril(diagonal)) }
CT_API ct_tensor ct_one_hot(ct_tensor t, int64_t classes) { RETURN_TENSOR(at::one_hot(T(t), classes)) }
CT_API ct_tensor ct_pad(ct_tensor t, const int64_t* pad, int n, double value) { RETURN_TENSOR(at::constant_pad_nd(T(t), ints(pad, n), value)) }

// ---- math ------------------------------------------------------------------------------------------------
CT_API ct_tensor ct_unary(int op, ct_tensor h) {
  GUARD_BEGIN
  const at::Tensor& a = T(h);
  switch (op) {
    case CT_NEG: return wrap(a.neg());
    case CT_EXP: return wrap(a.exp());
    case CT_LOG: return wrap(a.log());
    case CT_SQRT: return wrap(a.sqrt());
    case CT_RSQRT: return wrap(a.rsqrt());
    case CT_ABS: return wrap(a.abs());
    case CT_SIN: return wrap(a.sin());
    case CT_COS: return wrap(a.cos());
    case CT_TANH: return wrap(a.tanh());
    case CT_SIGMOID: return wrap(a.sigmoid());
    case CT_RELU: return wrap(a.relu());
    case CT_SILU: return wrap(at::silu(a));
    case CT_GELU: return wrap(at::gelu(a));
    case CT_GELU_TANH: return wrap(at::gelu(a, "tanh"));
    case CT_ATAN: return wrap(a.atan());
    case CT_SIGN: return wrap(a.sign());
    case CT_FLOOR: return wrap(a.floor());
    case CT_CEIL: return wrap(a.ceil());
    case CT_ROUND: return wrap(a.round());
    case CT_SQUARE: return wrap(a.square());
    case CT_RECIPROCAL: return wrap(a.reciprocal());
    case CT_LOG1P: return wrap(a.log1p());
    case CT_EXPM1: return wrap(a.expm1());
    case CT_SOFTPLUS: return wrap(at::softplus(a));
    case CT_ISNAN: return wrap(a.isnan());
    case CT_ISFINITE: return wrap(a.isfinite());
    case CT_LOGICAL_NOT: return wrap(a.logical_not());
    case CT_ERF: return wrap(a.erf());
    case CT_ZEROS_LIKE: return wrap(at::zeros_like(a));
    case CT_ONES_LIKE: return wrap(at::ones_like(a));
  }
  throw std::invalid_argument("unknown unary op " + std::to_string(op));
  GUARD_END(nullptr)
}

CT_API ct_tensor ct_binary(int op, ct_tensor ha, ct_tensor hb, double alpha) {
  GUARD_BEGIN
  const at::Tensor& a = T(ha);
  const at::Tensor& b = T(hb);
  switch (op) {
    case CT_ADD: return wrap(alpha == 1.0 ? a + b : at::add(a, b, alpha));
    case CT_SUB: return wrap(alpha == 1.0 ? a - b : at::sub(a, b, alpha));
    case CT_MUL: return wrap(a * b);
    case CT_DIV: return wrap(a / b);
    case CT_POW: return wrap(a.pow(b));
    case CT_MAXIMUM: return wrap(at::maximum(a, b));
    case CT_MINIMUM: return wrap(at::minimum(a, b));
    case CT_EQ: return wrap(a.eq(b));
    case CT_NE: return wrap(a.ne(b));
    case CT_LT: return wrap(a.lt(b));
    case CT_LE: return wrap(a.le(b));
    case CT_GT: return wrap(a.gt(b));
    case CT_GE: return wrap(a.ge(b));
    case CT_ATAN2: return wrap(at::atan2(a, b));
    case CT_REMAINDER: return wrap(at::remainder(a, b));
    case CT_LOGICAL_AND: return wrap(a.logical_and(b));
    case CT_LOGICAL_OR: return wrap(a.logical_or(b));
    case CT_FLOOR_DIVIDE: return wrap(at::div(a, b, "floor"));
  }
  throw std::invalid_argument("unknown binary op " + std::to_string(op));
  GUARD_END(nullptr)
}

CT_API ct_tensor ct_binary_scalar(int op, ct_tensor ha, double s) {
  GUARD_BEGIN
  const at::Tensor& a = T(ha);
  switch (op) {
    case CT_ADD: return wrap(a + s);
    case CT_SUB: return wrap(a - s);
    case CT_MUL: return wrap(a * s);
    case CT_DIV: return wrap(a / s);
    case CT_POW: return wrap(a.pow(s));
    case CT_MAXIMUM: return wrap(a.clamp_min(s));
    case CT_MINIMUM: return wrap(a.clamp_max(s));
    case CT_EQ: return wrap(a.eq(s));
    case CT_NE: return wrap(a.ne(s));
    case CT_LT: return wrap(a.lt(s));
    case CT_LE: return wrap(a.le(s));
    case CT_GT: return wrap(a.gt(s));
    case CT_GE: return wrap(a.ge(s));
    case CT_REMAINDER: return wrap(at::remainder(a, s));
    case CT_FLOOR_DIVIDE: return wrap(at::div(a, at::scalar_tensor(s, a.options()), "floor"));
    case CT_RSUB: return wrap(at::rsub(a, s));
    case CT_RDIV: return wrap(a.reciprocal() * s);
    case CT_RPOW: return wrap(at::pow(s, a));
  }
  throw std::invalid_argument("unknown scalar op " + std::to_string(op));
  GUARD_END(nullptr)
}

CT_API ct_tensor ct_where(ct_tensor c, ct_tensor a, ct_tensor b) { RETURN_TENSOR(at::where(T(c), T(a), T(b))) }
CT_API ct_tensor ct_masked_fill(ct_tensor t, ct_tensor mask, double value) { RETURN_TENSOR(T(t).masked_fill(T(mask), value)) }
CT_API ct_tensor ct_clamp(ct_tensor t, double lo, double hi) {
  GUARD_BEGIN
  c10::optional<at::Scalar> l, h;
  if (!std::isnan(lo)) l = lo;
  if (!std::isnan(hi)) h = hi;
  return wrap(at::clamp(T(t), l, h));
  GUARD_END(nullptr)
}

CT_API ct_tensor ct_reduce(int op, ct_tensor h, const int64_t* dims, int n, int keepdim) {
  GUARD_BEGIN
  const at::Tensor& a = T(h);
  std::vector<int64_t> all;
  if (n == 0) {  // all dims
    for (int64_t i = 0; i < a.dim(); ++i) all.push_back(i);
  } else {
    all.assign(dims, dims + n);
  }
  at::IntArrayRef d(all);
  bool k = keepdim != 0;
  switch (op) {
    case CT_SUM: return wrap(n == 0 && !k ? a.sum() : a.sum(d, k));
    case CT_MEAN: return wrap(n == 0 && !k ? a.mean() : a.mean(d, k));
    case CT_VAR: return wrap(at::var(a, d, /*unbiased=*/true, k));
    case CT_VAR_POP: return wrap(at::var(a, d, /*unbiased=*/false, k));
    case CT_STD: return wrap(at::std(a, d, /*unbiased=*/true, k));
    case CT_AMAX: return wrap(a.amax(d, k));
    case CT_AMIN: return wrap(a.amin(d, k));
    case CT_PROD: {
      at::Tensor r = a;
      for (auto it = all.rbegin(); it != all.rend(); ++it) r = r.prod(*it, k);
      return wrap(r);
    }
    case CT_LOGSUMEXP: return wrap(a.logsumexp(d, k));
    case CT_NORM2: return wrap(a.square().sum(d, k).sqrt());
    case CT_ALL: {
      at::Tensor r = a;
      for (auto it = all.rbegin(); it != all.rend(); ++it) r = r.all(*it, k);
      return wrap(r);
    }
    case CT_ANY: {
      at::Tensor r = a;
      for (auto it = all.rbegin(); it != all.rend(); ++it) r = r.any(*it, k);
      return wrap(r);
    }
  }
  throw std::invalid_argument("unknown reduction " + std::to_string(op));
  GUARD_END(nullptr)
}
CT_API int ct_max_dim(ct_tensor t, int64_t dim, int keepdim, int minimum, ct_tensor* values, ct_tensor* indices) {
  GUARD_BEGIN
  auto r = minimum ? T(t).min(dim, keepdim != 0) : T(t).max(dim, keepdim != 0);
  *values = wrap(std::get<0>(r));
  *indices = wrap(std::get<1>(r));
  return 0;
  GUARD_END(-1)
}
CT_API ct_tensor ct_argmax(ct_tensor t, int64_t dim, int keepdim, int minimum) {
  GUARD_BEGIN
  c10::optional<int64_t> d;
  if (dim != std::numeric_limits<int64_t>::min()) d = dim;
  return wrap(minimum ? T(t).argmin(d, keepdim != 0) : T(t).argmax(d, keepdim != 0));
  GUARD_END(nullptr)
}
CT_API int ct_topk(ct_tensor t, int64_t k, int64_t dim, int largest, ct_tensor* values, ct_tensor* indices) {
  GUARD_BEGIN
  auto r = T(t).topk(k, dim, largest != 0, /*sorted=*/true);
  *values = wrap(std::get<0>(r));
  *indices = wrap(std::get<1>(r));
  return 0;
  GUARD_END(-1)
}
CT_API int ct_sort(ct_tensor t, int64_t dim, int descending, ct_tensor* values, ct_tensor* indices) {
  GUARD_BEGIN
  auto r = T(t).sort(dim, descending != 0);
  *values = wrap(std::get<0>(r));
  *indices = wrap(std::get<1>(r));
  return 0;
  GUARD_END(-1)
}
CT_API ct_tensor ct_cumsum(ct_tensor t, int64_t dim) { RETURN_TENSOR(T(t).cumsum(dim)) }

CT_API int ct_inplace(int op, ct_tensor ha, ct_tensor hb, double s) {
  GUARD_BEGIN
  at::Tensor& a = T(ha);
  switch (op) {
    case CT_ADD_: if (hb) a.add_(T(hb), s); else a.add_(s); return 0;
    case CT_SUB_: if (hb) a.sub_(T(hb), s); else a.sub_(s); return 0;
    case CT_MUL_: if (hb) a.mul_(T(hb)); else a.mul_(s); return 0;
    case CT_DIV_: if (hb) a.div_(T(hb)); else a.div_(s); return 0;
    case CT_COPY_: a.copy_(T(hb)); return 0;
    case CT_FILL_: a.fill_(s); return 0;
    case CT_CLAMP_MIN_: a.clamp_min_(s); return 0;
    case CT_CLAMP_MAX_: a.clamp_max_(s); return 0;
    case CT_POW_: a.pow_(s); return 0;
  }
  throw std::invalid_argument("unknown in-place op " + std::to_string(op));
  GUARD_END(-1)
}
CT_API int ct_addcmul_(ct_tensor a, ct_tensor b, ct_tensor c, double v) { RETURN_STATUS(T(a).addcmul_(T(b), T(c), v)) }
CT_API int ct_addcdiv_(ct_tensor a, ct_tensor b, ct_tensor c, double v) { RETURN_STATUS(T(a).addcdiv_(T(b), T(c), v)) }

// ---- linear algebra and neural-network functions ---------------------------------------------------------
CT_API ct_tensor ct_matmul(ct_tensor a, ct_tensor b) { RETURN_TENSOR(at::matmul(T(a), T(b))) }
CT_API ct_tensor ct_bmm(ct_tensor a, ct_tensor b) { RETURN_TENSOR(at::bmm(T(a), T(b))) }
CT_API ct_tensor ct_linear(ct_tensor x, ct_tensor w, ct_tensor b) { RETURN_TENSOR(at::linear(T(x), T(w), opt(b))) }
CT_API ct_tensor ct_conv2d(ct_tensor x, ct_tensor w, ct_tensor b, int64_t stride, int64_t padding, int64_t dilation, int64_t groups) {
  RETURN_TENSOR(at::conv2d(T(x), T(w), opt(b), {stride, stride}, {padding, padding}, {dilation, dilation}, groups))
}
CT_API ct_tensor ct_conv_transpose2d(ct_tensor x, ct_tensor w, ct_tensor b, int64_t stride, int64_t padding, int64_t output_padding, int64_t groups) {
  RETURN_TENSOR(at::conv_transpose2d(T(x), T(w), opt(b), {stride, stride}, {padding, padding},
                                     {output_padding, output_padding}, groups, {1, 1}))
}
CT_API ct_tensor ct_interpolate(ct_tensor x, int64_t h, int64_t w, int bilinear, int align_corners) {
  RETURN_TENSOR(bilinear ? at::upsample_bilinear2d(T(x), {h, w}, align_corners != 0, c10::nullopt, c10::nullopt)
                         : at::upsample_nearest2d(T(x), {h, w}, c10::nullopt, c10::nullopt))
}
CT_API ct_tensor ct_avg_pool2d(ct_tensor x, int64_t k, int64_t s, int64_t p) { RETURN_TENSOR(at::avg_pool2d(T(x), {k, k}, {s, s}, {p, p})) }
CT_API ct_tensor ct_max_pool2d(ct_tensor x, int64_t k, int64_t s, int64_t p) { RETURN_TENSOR(at::max_pool2d(T(x), {k, k}, {s, s}, {p, p})) }
CT_API ct_tensor ct_adaptive_avg_pool2d(ct_tensor x, int64_t h, int64_t w) { RETURN_TENSOR(at::adaptive_avg_pool2d(T(x), {h, w})) }
CT_API ct_tensor ct_group_norm(ct_tensor x, int64_t groups, ct_tensor w, ct_tensor b, double eps) {
  RETURN_TENSOR(at::group_norm(T(x), groups, opt(w), opt(b), eps, /*cudnn_enabled=*/true))
}
CT_API ct_tensor ct_layer_norm(ct_tensor x, const int64_t* shape, int n, ct_tensor w, ct_tensor b, double eps) {
  RETURN_TENSOR(at::layer_norm(T(x), ints(shape, n), opt(w), opt(b), eps, /*cudnn_enable=*/true))
}
CT_API ct_tensor ct_softmax(ct_tensor x, int64_t dim, int log) { RETURN_TENSOR(log ? T(x).log_softmax(dim) : T(x).softmax(dim)) }
CT_API ct_tensor ct_dropout(ct_tensor x, double p, int train) { RETURN_TENSOR(at::dropout(T(x), p, train != 0)) }
CT_API ct_tensor ct_embedding(ct_tensor weight, ct_tensor indices) { RETURN_TENSOR(at::embedding(T(weight), T(indices))) }
CT_API ct_tensor ct_cosine_similarity(ct_tensor a, ct_tensor b, int64_t dim, double eps) { RETURN_TENSOR(at::cosine_similarity(T(a), T(b), dim, eps)) }
// softmax(q·kᵀ·scale [+ mask]) · v — one call for the whole attention core. mask: bool (true = keep) or additive float.
CT_API ct_tensor ct_attention(ct_tensor hq, ct_tensor hk, ct_tensor hv, ct_tensor hmask, double scale) {
  GUARD_BEGIN
  const at::Tensor& q = T(hq);
  at::Tensor scores = at::matmul(q, T(hk).transpose(-2, -1)).mul_(scale);  // (…, Tq, Tk)
  if (hmask) {
    const at::Tensor& m = T(hmask);
    if (m.scalar_type() == at::kBool)
      scores = scores.masked_fill(m.logical_not(), -std::numeric_limits<double>::infinity());
    else
      scores = scores + m;
  }
  return wrap(at::matmul(scores.softmax(-1), T(hv)));  // (…, Tq, d)
  GUARD_END(nullptr)
}
CT_API ct_tensor ct_mse_loss(ct_tensor a, ct_tensor b, int r) { RETURN_TENSOR(at::mse_loss(T(a), T(b), r)) }
CT_API ct_tensor ct_l1_loss(ct_tensor a, ct_tensor b, int r) { RETURN_TENSOR(at::l1_loss(T(a), T(b), r)) }
CT_API ct_tensor ct_cross_entropy(ct_tensor logits, ct_tensor target, int r, double smoothing) {
  RETURN_TENSOR(at::cross_entropy_loss(T(logits), T(target), c10::nullopt, r, -100, smoothing))
}
CT_API ct_tensor ct_nll_loss(ct_tensor logp, ct_tensor target, int r) { RETURN_TENSOR(at::nll_loss(T(logp), T(target), c10::nullopt, r, -100)) }
CT_API ct_tensor ct_bce_with_logits(ct_tensor logits, ct_tensor target, int r) {
  RETURN_TENSOR(at::binary_cross_entropy_with_logits(T(logits), T(target), c10::nullopt, c10::nullopt, r))
}

// ---- autograd --------------------------------------------------------------------------------------------
CT_API int ct_backward(ct_tensor t, ct_tensor grad, int retain_graph, int create_graph) {
  RETURN_STATUS(T(t).backward(or_undefined(grad), retain_graph != 0, create_graph != 0))
}
CT_API int ct_autograd_grad(const ct_tensor* outputs, const ct_tensor* grad_outputs, int n_out, const ct_tensor* inputs,
                            int n_in, int retain_graph, int create_graph, int allow_unused, ct_tensor* result) {
  GUARD_BEGIN
  std::vector<at::Tensor> outs = tensors(outputs, n_out), ins = tensors(inputs, n_in), gouts;
  for (int i = 0; i < n_out; ++i) gouts.push_back(grad_outputs ? or_undefined(grad_outputs[i]) : at::Tensor());
  auto grads = torch::autograd::grad(outs, ins, gouts, retain_graph != 0, create_graph != 0, allow_unused != 0);
  for (int i = 0; i < n_in; ++i) result[i] = grads[i].defined() ? wrap(grads[i]) : nullptr;
  return 0;
  GUARD_END(-1)
}
// Scales all gradients so that their joint L2 norm is at most max_norm; returns the norm before clipping.
CT_API double ct_clip_grad_norm(const ct_tensor* params, int n, double max_norm) {
  GUARD_BEGIN
  at::NoGradGuard ng;
  std::vector<at::Tensor> grads;
  for (int i = 0; i < n; ++i)
    if (T(params[i]).grad().defined()) grads.push_back(T(params[i]).grad());
  if (grads.empty()) return 0.0;
  at::Tensor total = at::zeros({}, grads[0].options().dtype(at::kDouble));
  for (auto& g : grads) total += g.to(at::kDouble).square().sum();
  double norm = std::sqrt(total.item<double>());
  double coef = max_norm / (norm + 1e-6);
  if (coef < 1.0)
    for (auto& g : grads) g.mul_(coef);
  return norm;
  GUARD_END(-1.0)
}
