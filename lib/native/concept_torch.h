// concept_torch.h — the C ABI between the C# workbook and libtorch.
//
// Layer 1 of the three-layer bridge (C ABI shim → internal P/Invoke class → public C# API).
// Conventions, which every function follows:
//   * A tensor crosses the boundary as an opaque handle (a heap-allocated at::Tensor). The caller owns every
//     handle it receives and releases it with ct_free.
//   * No C++ exception ever crosses the boundary. A function that fails stores libtorch's message in a
//     thread-local slot readable with ct_last_error() and returns NULL (handle results) or -1 (int results).
//   * The integer codes below (dtypes, devices, op codes) are mirrored one-to-one in Native.cs.
#pragma once
#include <stdint.h>

#define CT_API extern "C" __attribute__((visibility("default")))

typedef void* ct_tensor;
typedef void* ct_generator;

// dtypes
enum { CT_F32 = 0, CT_F64 = 1, CT_F16 = 2, CT_BF16 = 3, CT_I64 = 4, CT_I32 = 5, CT_BOOL = 6, CT_U8 = 7 };
// devices
enum { CT_CPU = 0, CT_CUDA = 1 };
// reductions for losses
enum { CT_RED_NONE = 0, CT_RED_MEAN = 1, CT_RED_SUM = 2 };

// element-wise unary ops
enum {
  CT_NEG, CT_EXP, CT_LOG, CT_SQRT, CT_RSQRT, CT_ABS, CT_SIN, CT_COS, CT_TANH, CT_SIGMOID, CT_RELU, CT_SILU,
  CT_GELU, CT_GELU_TANH, CT_ATAN, CT_SIGN, CT_FLOOR, CT_CEIL, CT_ROUND, CT_SQUARE, CT_RECIPROCAL, CT_LOG1P,
  CT_EXPM1, CT_SOFTPLUS, CT_ISNAN, CT_ISFINITE, CT_LOGICAL_NOT, CT_ERF, CT_ZEROS_LIKE, CT_ONES_LIKE
};
// element-wise binary ops (tensor ⊙ tensor, or tensor ⊙ scalar)
enum {
  CT_ADD, CT_SUB, CT_MUL, CT_DIV, CT_POW, CT_MAXIMUM, CT_MINIMUM, CT_EQ, CT_NE, CT_LT, CT_LE, CT_GT, CT_GE,
  CT_ATAN2, CT_REMAINDER, CT_LOGICAL_AND, CT_LOGICAL_OR, CT_FLOOR_DIVIDE,
  CT_RSUB, CT_RDIV, CT_RPOW  // scalar-only: s − a, s / a, s ^ a
};
// reductions over a list of dims (none = all)
enum { CT_SUM, CT_MEAN, CT_VAR, CT_VAR_POP, CT_STD, CT_AMAX, CT_AMIN, CT_PROD, CT_LOGSUMEXP, CT_NORM2, CT_ALL, CT_ANY };
// in-place updates (used by optimisers and initialisers, normally under no_grad)
enum { CT_ADD_, CT_SUB_, CT_MUL_, CT_DIV_, CT_COPY_, CT_FILL_, CT_CLAMP_MIN_, CT_CLAMP_MAX_, CT_POW_ };
// random fills / creations
enum { CT_RANDN, CT_RAND };

// ---- errors, runtime --------------------------------------------------------------------------------------
CT_API const char* ct_last_error(void);
CT_API void ct_clear_error(void);
CT_API const char* ct_version(void);
CT_API int64_t ct_live_handles(void);
CT_API void ct_set_num_threads(int n);
CT_API int ct_get_num_threads(void);
CT_API int ct_cuda_is_available(void);
CT_API int ct_cuda_device_count(void);
CT_API int ct_cuda_synchronize(void);
CT_API int ct_set_deterministic(int on);
CT_API void ct_manual_seed(uint64_t seed);
CT_API int ct_set_grad_enabled(int on);  // returns the previous state
CT_API int ct_is_grad_enabled(void);
CT_API const char* ct_config(void);
CT_API double ct_bench_native_add(int64_t iters);

// ---- generators ----------------------------------------------------------------------------------------
CT_API ct_generator ct_generator_new(uint64_t seed);
CT_API void ct_generator_free(ct_generator g);
CT_API ct_tensor ct_generator_get_state(ct_generator g);          // NULL g = the global CPU generator
CT_API int ct_generator_set_state(ct_generator g, ct_tensor state);

// ---- lifecycle and metadata -------------------------------------------------------------------------
CT_API void ct_free(ct_tensor t);
CT_API int ct_dim(ct_tensor t);
CT_API int ct_sizes(ct_tensor t, int64_t* out, int cap);
CT_API int ct_dtype(ct_tensor t);
CT_API int ct_device(ct_tensor t, int* index);
CT_API int64_t ct_numel(ct_tensor t);
CT_API int ct_requires_grad(ct_tensor t);
CT_API int ct_set_requires_grad(ct_tensor t, int on);
CT_API int ct_is_leaf(ct_tensor t);
CT_API int ct_grad(ct_tensor t, ct_tensor* out);  // *out = NULL when no gradient has been accumulated
CT_API int ct_set_grad_none(ct_tensor t);
CT_API int ct_copy_to_host(ct_tensor t, void* dst, int64_t nbytes);
CT_API int ct_item(ct_tensor t, double* out);

// ---- creation ------------------------------------------------------------------------------------------
CT_API ct_tensor ct_from_data(const void* src, const int64_t* sizes, int ndim, int dtype, int device, int index);
CT_API ct_tensor ct_full(const int64_t* sizes, int ndim, double value, int dtype, int device, int index);
CT_API ct_tensor ct_empty(const int64_t* sizes, int ndim, int dtype, int device, int index);
CT_API ct_tensor ct_arange(double start, double end, double step, int dtype, int device, int index);
CT_API ct_tensor ct_linspace(double start, double end, int64_t steps, int dtype, int device, int index);
CT_API ct_tensor ct_eye(int64_t n, int dtype, int device, int index);
CT_API ct_tensor ct_random(int kind, const int64_t* sizes, int ndim, ct_generator g, int dtype, int device, int index);
CT_API ct_tensor ct_randint(int64_t low, int64_t high, const int64_t* sizes, int ndim, ct_generator g, int device, int index);
CT_API ct_tensor ct_randperm(int64_t n, ct_generator g, int device, int index);
CT_API ct_tensor ct_multinomial(ct_tensor probs, int64_t n, int replacement, ct_generator g);
CT_API int ct_fill_random_(ct_tensor t, int kind, double a, double b, ct_generator g);  // normal_(a,b) / uniform_(a,b)

// ---- conversion, copies --------------------------------------------------------------------------------
CT_API ct_tensor ct_to(ct_tensor t, int dtype, int device, int index, int copy);  // dtype/device −1 = keep
CT_API ct_tensor ct_clone(ct_tensor t);
CT_API ct_tensor ct_detach(ct_tensor t);
CT_API ct_tensor ct_contiguous(ct_tensor t);
CT_API ct_tensor ct_alias(ct_tensor t);  // a second handle to the same tensor
CT_API int ct_set_data(ct_tensor t, ct_tensor src);  // replace t's data, keeping its identity (PyTorch's t.data = src)

// ---- views and shape ops -------------------------------------------------------------------------------
CT_API ct_tensor ct_reshape(ct_tensor t, const int64_t* sizes, int n);
CT_API ct_tensor ct_view(ct_tensor t, const int64_t* sizes, int n);
CT_API ct_tensor ct_permute(ct_tensor t, const int64_t* dims, int n);
CT_API ct_tensor ct_transpose(ct_tensor t, int64_t d0, int64_t d1);
CT_API ct_tensor ct_slice(ct_tensor t, int64_t dim, int64_t start, int64_t end, int64_t step);
CT_API ct_tensor ct_select(ct_tensor t, int64_t dim, int64_t index);
CT_API ct_tensor ct_index_select(ct_tensor t, int64_t dim, ct_tensor index);
CT_API ct_tensor ct_gather(ct_tensor t, int64_t dim, ct_tensor index);
CT_API ct_tensor ct_masked_select(ct_tensor t, ct_tensor mask);
CT_API ct_tensor ct_cat(const ct_tensor* ts, int n, int64_t dim);
CT_API ct_tensor ct_stack(const ct_tensor* ts, int n, int64_t dim);
CT_API int ct_chunk(ct_tensor t, int64_t chunks, int64_t dim, ct_tensor* out, int cap);
CT_API ct_tensor ct_expand(ct_tensor t, const int64_t* sizes, int n);
CT_API ct_tensor ct_repeat(ct_tensor t, const int64_t* reps, int n);
CT_API ct_tensor ct_flatten(ct_tensor t, int64_t start, int64_t end);
CT_API ct_tensor ct_squeeze(ct_tensor t, int64_t dim, int all);
CT_API ct_tensor ct_unsqueeze(ct_tensor t, int64_t dim);
CT_API ct_tensor ct_flip(ct_tensor t, const int64_t* dims, int n);
CT_API ct_tensor ct_roll(ct_tensor t, const int64_t* shifts, const int64_t* dims, int n);
CT_API ct_tensor ct_tril(ct_tensor t, int64_t diagonal, int upper);
CT_API ct_tensor ct_one_hot(ct_tensor t, int64_t classes);
CT_API ct_tensor ct_pad(ct_tensor t, const int64_t* pad, int n, double value);

// ---- math ------------------------------------------------------------------------------------------------
CT_API ct_tensor ct_unary(int op, ct_tensor a);
CT_API ct_tensor ct_binary(int op, ct_tensor a, ct_tensor b, double alpha);
CT_API ct_tensor ct_binary_scalar(int op, ct_tensor a, double s);
CT_API ct_tensor ct_where(ct_tensor cond, ct_tensor a, ct_tensor b);
CT_API ct_tensor ct_masked_fill(ct_tensor t, ct_tensor mask, double value);
CT_API ct_tensor ct_clamp(ct_tensor t, double lo, double hi);  // NaN bound = unbounded
CT_API ct_tensor ct_reduce(int op, ct_tensor t, const int64_t* dims, int n, int keepdim);
CT_API int ct_max_dim(ct_tensor t, int64_t dim, int keepdim, int minimum, ct_tensor* values, ct_tensor* indices);
CT_API ct_tensor ct_argmax(ct_tensor t, int64_t dim, int keepdim, int minimum);  // dim = INT64_MIN: flattened
CT_API int ct_topk(ct_tensor t, int64_t k, int64_t dim, int largest, ct_tensor* values, ct_tensor* indices);
CT_API int ct_sort(ct_tensor t, int64_t dim, int descending, ct_tensor* values, ct_tensor* indices);
CT_API ct_tensor ct_cumsum(ct_tensor t, int64_t dim);
CT_API int ct_inplace(int op, ct_tensor a, ct_tensor b, double scalar);  // b may be NULL for scalar ops
CT_API int ct_addcmul_(ct_tensor a, ct_tensor b, ct_tensor c, double value);
CT_API int ct_addcdiv_(ct_tensor a, ct_tensor b, ct_tensor c, double value);

// ---- linear algebra and neural-network functions ---------------------------------------------------------
CT_API ct_tensor ct_matmul(ct_tensor a, ct_tensor b);
CT_API ct_tensor ct_bmm(ct_tensor a, ct_tensor b);
CT_API ct_tensor ct_linear(ct_tensor x, ct_tensor w, ct_tensor b);
CT_API ct_tensor ct_conv2d(ct_tensor x, ct_tensor w, ct_tensor b, int64_t stride, int64_t padding, int64_t dilation, int64_t groups);
CT_API ct_tensor ct_conv_transpose2d(ct_tensor x, ct_tensor w, ct_tensor b, int64_t stride, int64_t padding, int64_t output_padding, int64_t groups);
CT_API ct_tensor ct_interpolate(ct_tensor x, int64_t out_h, int64_t out_w, int bilinear, int align_corners);
CT_API ct_tensor ct_avg_pool2d(ct_tensor x, int64_t kernel, int64_t stride, int64_t padding);
CT_API ct_tensor ct_max_pool2d(ct_tensor x, int64_t kernel, int64_t stride, int64_t padding);
CT_API ct_tensor ct_adaptive_avg_pool2d(ct_tensor x, int64_t out_h, int64_t out_w);
CT_API ct_tensor ct_group_norm(ct_tensor x, int64_t groups, ct_tensor w, ct_tensor b, double eps);
CT_API ct_tensor ct_layer_norm(ct_tensor x, const int64_t* shape, int n, ct_tensor w, ct_tensor b, double eps);
CT_API ct_tensor ct_softmax(ct_tensor x, int64_t dim, int log);
CT_API ct_tensor ct_dropout(ct_tensor x, double p, int train);
CT_API ct_tensor ct_embedding(ct_tensor weight, ct_tensor indices);
CT_API ct_tensor ct_cosine_similarity(ct_tensor a, ct_tensor b, int64_t dim, double eps);
CT_API ct_tensor ct_attention(ct_tensor q, ct_tensor k, ct_tensor v, ct_tensor mask, double scale);
CT_API ct_tensor ct_mse_loss(ct_tensor a, ct_tensor b, int reduction);
CT_API ct_tensor ct_l1_loss(ct_tensor a, ct_tensor b, int reduction);
CT_API ct_tensor ct_cross_entropy(ct_tensor logits, ct_tensor target, int reduction, double label_smoothing);
CT_API ct_tensor ct_nll_loss(ct_tensor logp, ct_tensor target, int reduction);
CT_API ct_tensor ct_bce_with_logits(ct_tensor logits, ct_tensor target, int reduction);

// ---- autograd --------------------------------------------------------------------------------------------
CT_API int ct_backward(ct_tensor t, ct_tensor grad, int retain_graph, int create_graph);
CT_API int ct_autograd_grad(const ct_tensor* outputs, const ct_tensor* grad_outputs, int n_out,
                            const ct_tensor* inputs, int n_in, int retain_graph, int create_graph,
                            int allow_unused, ct_tensor* result);
CT_API double ct_clip_grad_norm(const ct_tensor* params, int n, double max_norm);
