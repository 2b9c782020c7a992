// Node-API binding: converts and checks arguments, then calls the active ISA's
// kernel. Every argument is validated (array type, length against the dims,
// non-negative integer dims whose products fit in int64) and a bad one throws a
// TypeError or RangeError naming the kernel and argument, with what was received
// and what was expected. Typed arrays are used in place (zero-copy).
//
// The JS-visible signatures are those of the reference kernels in src/backend/js.
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels.h"
#include "threadpool.h"

namespace heed {
namespace {

template <class T>
struct Span {
  T* data = nullptr;
  int64_t len = 0;
};

template <class T> struct ArrayKind;
template <> struct ArrayKind<float> { static constexpr napi_typedarray_type type = napi_float32_array; static constexpr const char* name = "Float32Array"; };
template <> struct ArrayKind<int32_t> { static constexpr napi_typedarray_type type = napi_int32_array; static constexpr const char* name = "Int32Array"; };
template <> struct ArrayKind<int8_t> { static constexpr napi_typedarray_type type = napi_int8_array; static constexpr const char* name = "Int8Array"; };

std::string describe(const Napi::Value& v) {
  if (v.IsNull()) return "null";
  if (v.IsUndefined()) return "undefined";
  if (v.IsBoolean()) return "a boolean";
  if (v.IsNumber()) return "the number " + v.ToString().Utf8Value();
  if (v.IsString()) return "a string";
  if (v.IsTypedArray()) {
    switch (v.As<Napi::TypedArray>().TypedArrayType()) {
      case napi_float32_array: return "a Float32Array";
      case napi_float64_array: return "a Float64Array";
      case napi_int32_array: return "an Int32Array";
      case napi_int8_array: return "an Int8Array";
      case napi_uint8_array: return "a Uint8Array";
      default: return "another typed array";
    }
  }
  if (v.IsArray()) return "an Array";
  if (v.IsFunction()) return "a function";
  return "an object";
}

// One call's arguments, with the kernel name for messages.
class Args {
 public:
  Args(const Napi::CallbackInfo& info, const char* kernel, size_t count) : info_(info), env_(info.Env()), kernel_(kernel) {
    if (info.Length() < count) {
      fail(true, "expected " + std::to_string(count) + " arguments, received " + std::to_string(info.Length()));
    }
  }

  [[noreturn]] void fail(bool type, const std::string& msg) const {
    std::string m = std::string(kernel_) + ": " + msg + ".";
    if (type) throw Napi::TypeError::New(env_, m);
    throw Napi::RangeError::New(env_, m);
  }

  template <class T>
  Span<T> array(size_t i, const char* name, bool nullable = false) const {
    Napi::Value v = info_[i];
    Span<T> s;
    if (nullable && (v.IsNull() || v.IsUndefined())) return s;
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != ArrayKind<T>::type) {
      fail(true, std::string("argument '") + name + "' must be a" + (ArrayKind<T>::name[0] == 'I' ? "n " : " ") +
                     ArrayKind<T>::name + (nullable ? " or null" : "") + ", received " + describe(v));
    }
    auto ta = v.As<Napi::TypedArrayOf<T>>();
    s.data = ta.Data();
    s.len = static_cast<int64_t>(ta.ElementLength());
    return s;
  }

  double number(size_t i, const char* name) const {
    Napi::Value v = info_[i];
    if (!v.IsNumber()) fail(true, std::string("argument '") + name + "' must be a number, received " + describe(v));
    return v.As<Napi::Number>().DoubleValue();
  }

  float finite(size_t i, const char* name) const {
    double d = number(i, name);
    if (!std::isfinite(d)) fail(false, std::string("argument '") + name + "' must be finite, received " + std::to_string(d));
    return static_cast<float>(d);
  }

  int64_t integer(size_t i, const char* name, int64_t lo = INT64_MIN, int64_t hi = INT64_MAX) const {
    double d = number(i, name);
    if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 9007199254740992.0) {
      fail(false, std::string("argument '") + name + "' must be an integer, received " + std::to_string(d));
    }
    int64_t x = static_cast<int64_t>(d);
    if (x < lo || x > hi) {
      fail(false, std::string("argument '") + name + "' = " + std::to_string(x) + " is out of range, expected " +
                      std::to_string(lo) + " ≤ " + name + " ≤ " + std::to_string(hi));
    }
    return x;
  }

  // A dimension: a non-negative integer small enough that kernels can index with it.
  int64_t dim(size_t i, const char* name) const { return integer(i, name, 0, int64_t(1) << 40); }

  bool flag(size_t i, const char* name) const {
    Napi::Value v = info_[i];
    if (v.IsBoolean()) return v.As<Napi::Boolean>().Value();
    if (v.IsNumber()) return v.As<Napi::Number>().DoubleValue() != 0;
    fail(true, std::string("argument '") + name + "' must be a boolean, received " + describe(v));
  }

  std::vector<int64_t> intList(size_t i, const char* name, int64_t lo) const {
    Napi::Value v = info_[i];
    if (!v.IsArray()) fail(true, std::string("argument '") + name + "' must be an Array of integers, received " + describe(v));
    auto arr = v.As<Napi::Array>();
    if (arr.Length() > 16) fail(false, std::string("argument '") + name + "' has " + std::to_string(arr.Length()) + " entries, expected at most 16");
    std::vector<int64_t> out(arr.Length());
    for (uint32_t j = 0; j < arr.Length(); j++) {
      Napi::Value e = arr[j];
      if (!e.IsNumber()) fail(true, std::string("argument '") + name + "[" + std::to_string(j) + "]' must be a number, received " + describe(e));
      double d = e.As<Napi::Number>().DoubleValue();
      if (!std::isfinite(d) || d != std::floor(d) || d < double(lo) || d > double(int64_t(1) << 40)) {
        fail(false, std::string("argument '") + name + "[" + std::to_string(j) + "]' must be an integer ≥ " + std::to_string(lo) + ", received " + std::to_string(d));
      }
      out[j] = static_cast<int64_t>(d);
    }
    return out;
  }

  // a·b·... with an overflow check.
  int64_t product(std::initializer_list<int64_t> xs, const char* what) const {
    int64_t p = 1;
    for (int64_t x : xs) {
      if (__builtin_mul_overflow(p, x, &p) || p > (int64_t(1) << 53)) fail(false, std::string(what) + " is too large (overflows)");
    }
    return p;
  }

  template <class T>
  void expectLength(const Span<T>& s, const char* name, int64_t expected, const char* formula) const {
    if (s.len != expected) {
      fail(false, std::string("argument '") + name + "' has length " + std::to_string(s.len) + ", expected " + formula +
                      " = " + std::to_string(expected));
    }
  }

  template <class T>
  void expectAtLeast(const Span<T>& s, const char* name, int64_t needed, const char* formula) const {
    if (s.len < needed) {
      fail(false, std::string("argument '") + name + "' has length " + std::to_string(s.len) + ", expected at least " +
                      formula + " = " + std::to_string(needed));
    }
  }

  Napi::Env env() const { return env_; }

 private:
  const Napi::CallbackInfo& info_;
  Napi::Env env_;
  const char* kernel_;
};

const KernelTable& K() { return active(); }

// sgemm(a, b, c, batch, m, n, k, transA, transB, alpha, beta, strideA, strideB, strideC, bias, activation)
Napi::Value Sgemm(const Napi::CallbackInfo& info) {
  Args g(info, "sgemm", 16);
  auto a = g.array<float>(0, "a"), b = g.array<float>(1, "b"), c = g.array<float>(2, "c");
  int64_t batch = g.dim(3, "batch"), m = g.dim(4, "m"), n = g.dim(5, "n"), k = g.dim(6, "k");
  bool transA = g.flag(7, "transA"), transB = g.flag(8, "transB");
  float alpha = static_cast<float>(g.number(9, "alpha")), beta = static_cast<float>(g.number(10, "beta"));
  int64_t sA = g.dim(11, "strideA"), sB = g.dim(12, "strideB"), sC = g.dim(13, "strideC");
  auto bias = g.array<float>(14, "bias", true);
  int64_t act = g.integer(15, "activation", 0, 2);
  int64_t mk = g.product({m, k}, "m·k"), kn = g.product({k, n}, "k·n"), mn = g.product({m, n}, "m·n");
  if (batch > 0) {
    int64_t last = batch - 1;
    if (mk > 0) g.expectAtLeast(a, "a", g.product({last, sA}, "(batch−1)·strideA") + mk, "(batch−1)·strideA + m·k");
    if (kn > 0) g.expectAtLeast(b, "b", g.product({last, sB}, "(batch−1)·strideB") + kn, "(batch−1)·strideB + k·n");
    if (mn > 0) g.expectAtLeast(c, "c", g.product({last, sC}, "(batch−1)·strideC") + mn, "(batch−1)·strideC + m·n");
    if (batch > 1 && sC < mn && mn > 0) g.fail(false, "strideC = " + std::to_string(sC) + " makes batches of C overlap, expected strideC ≥ m·n = " + std::to_string(mn));
  }
  if (bias.data || bias.len) g.expectLength(bias, "bias", n, "n");
  K().sgemm(a.data, b.data, c.data, batch, m, n, k, transA, transB, alpha, beta, sA, sB, sC, bias.data, int(act));
  return g.env().Undefined();
}

Napi::Value Isa(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), K().isa); }
Napi::Value GetNumThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), poolSize()); }
Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  Args g(info, "setNumThreads", 1);
  poolResize(static_cast<int>(g.integer(0, "threads", 1, kMaxThreads)));
  return info.Env().Undefined();
}
Napi::Value PeakFlops(const Napi::CallbackInfo& info) {
  Args g(info, "peakFlops", 1);
  int64_t t = g.integer(0, "threads", 1, kMaxThreads);
  return Napi::Number::New(info.Env(), K().peakFlops(static_cast<int>(t)));
}

#include "binding_kernels.inc"

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  Napi::Object kernels = Napi::Object::New(env);
  const KernelTable& t = K();
  auto add = [&](const char* name, bool present, Napi::Function::Callback fn) {
    if (present) kernels.Set(name, Napi::Function::New(env, fn, name));
  };
  add("sgemm", t.sgemm != nullptr, Sgemm);
  registerKernels(t, add);
  exports.Set("kernels", kernels);
  exports.Set("isa", Napi::Function::New(env, Isa, "isa"));
  exports.Set("getNumThreads", Napi::Function::New(env, GetNumThreads, "getNumThreads"));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads, "setNumThreads"));
  exports.Set("peakFlops", Napi::Function::New(env, PeakFlops, "peakFlops"));
  return exports;
}

}  // namespace
}  // namespace heed

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return heed::Init(env, exports); }
NODE_API_MODULE(NODE_GYP_MODULE_NAME, InitModule)
