// Node-API binding: converts and checks arguments, then calls the active ISA's
// kernel. Nothing here is written per kernel: one generic checker reads each
// kernel's spec table (kernel_specs.gen.h, generated from src/backend/specs by
// scripts/gen-native-specs.ts), validates the JS arguments against it, and fills
// the kernel's Args struct. A bad argument throws a TypeError (wrong type) or a
// RangeError (wrong value or length) naming the kernel and argument, with what was
// received and what was expected. Typed arrays are used in place (zero-copy).
//
// JS calls each kernel with its spec's args (all but the derived ones) flattened in
// spec order; src/backend/native/load.ts builds that call from the named object.
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "kernels.h"
#include "threadpool.h"

namespace heed {
void tuneAllocator();  // memory.cpp
}  // namespace heed

namespace heed {
namespace {

constexpr int64_t kMaxDim = int64_t(1) << 40;       // dims and list entries
constexpr double kMaxExact = 9007199254740992.0;    // 2^53: integers a double holds exactly

std::string describe(napi_env env, napi_value v) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  switch (t) {
    case napi_null: return "null";
    case napi_undefined: return "undefined";
    case napi_boolean: return "a boolean";
    case napi_number: {
      double d;
      napi_get_value_double(env, v, &d);
      return "the number " + Napi::Number::New(env, d).ToString().Utf8Value();
    }
    case napi_string: return "a string";
    case napi_function: return "a function";
    default: break;
  }
  bool is = false;
  napi_is_typedarray(env, v, &is);
  if (is) {
    napi_typedarray_type tt;
    napi_get_typedarray_info(env, v, &tt, nullptr, nullptr, nullptr, nullptr);
    switch (tt) {
      case napi_float32_array: return "a Float32Array";
      case napi_float64_array: return "a Float64Array";
      case napi_int32_array: return "an Int32Array";
      case napi_int8_array: return "an Int8Array";
      case napi_uint8_array: return "a Uint8Array";
      default: return "another typed array";
    }
  }
  napi_is_array(env, v, &is);
  return is ? "an Array" : "an object";
}

[[noreturn]] void fail(napi_env env, const char* kernel, bool typeError, const std::string& msg) {
  std::string m = std::string(kernel) + ": " + msg + ".";
  if (typeError) throw Napi::TypeError::New(env, m);
  throw Napi::RangeError::New(env, m);
}

// Reads a number; type errors name the argument.
double numberArg(napi_env env, const char* kernel, napi_value v, const std::string& name) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) fail(env, kernel, true, "argument '" + name + "' must be a number, received " + describe(env, v));
  return d;
}

int64_t integerArg(napi_env env, const char* kernel, napi_value v, const std::string& name, double lo, double hi) {
  double d = numberArg(env, kernel, v, name);
  if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > kMaxExact) {
    fail(env, kernel, false, "argument '" + name + "' must be an integer, received " + std::to_string(d));
  }
  if (d < lo || d > hi) {
    fail(env, kernel, false, "argument '" + name + "' = " + std::to_string(int64_t(d)) + " is out of range, expected " +
                                 std::to_string(int64_t(lo)) + " ≤ " + name + " ≤ " + std::to_string(int64_t(hi)));
  }
  return static_cast<int64_t>(d);
}

// integerArg without building the argument's name unless it fails: the hot path of every call
// (a std::string per argument, and per entry of an int list, cost more than the checks).
// `index` ≥ 0 names a list entry, name[index].
inline int64_t integerArgFast(napi_env env, const char* kernel, napi_value v, const char* name, int64_t index, double lo, double hi) {
  double d;
  if (napi_get_value_double(env, v, &d) == napi_ok && std::isfinite(d) && d == std::floor(d) && std::fabs(d) <= kMaxExact && d >= lo && d <= hi) {
    return static_cast<int64_t>(d);
  }
  const std::string full = index < 0 ? std::string(name) : std::string(name) + "[" + std::to_string(index) + "]";
  return integerArg(env, kernel, v, full, lo, hi);  // throws with the message
}

const char* arrayName(spec::DType t) {
  switch (t) {
    case spec::DType::F32: return "a Float32Array";
    case spec::DType::F64: return "a Float64Array";
    case spec::DType::I32: return "an Int32Array";
    case spec::DType::I8: return "an Int8Array";
    default: return "a typed array";
  }
}

napi_typedarray_type arrayType(spec::DType t) {
  switch (t) {
    case spec::DType::F64: return napi_float64_array;
    case spec::DType::I32: return napi_int32_array;
    case spec::DType::I8: return napi_int8_array;
    default: return napi_float32_array;
  }
}

// One call being checked: the argument values the rules read, and storage for lists.
class Call {
 public:
  Call(napi_env env, const spec::Kernel& k) : env_(env), k_(k) {}

  [[noreturn]] void fail(bool typeError, const std::string& msg) const { heed::fail(env_, k_.name, typeError, msg); }

  // Checks the JS arguments against the spec and writes them into the Args struct at `out`.
  void parse(const napi_value* argv, size_t argc, char* out) {
    if (argc < size_t(k_.npassed)) {
      fail(true, "expected " + std::to_string(k_.npassed) + " arguments, received " + std::to_string(argc));
    }
    std::memset(vals_, 0, sizeof(int64_t) * size_t(k_.nargs));  // the rules read vals_ of float scalars and later derived args as 0
    size_t p = 0;
    for (int i = 0; i < k_.nargs; i++) {
      const spec::Arg& a = k_.args[i];
      if (a.role != spec::Role::Derived) read(i, a, argv[p++], out + a.offset);
    }
    for (int i = 0; i < k_.nargs; i++) {
      const spec::Arg& a = k_.args[i];
      if (a.role == spec::Role::Derived) {
        vals_[i] = eval(a.derived);
        std::memcpy(out + a.offset, &vals_[i], sizeof(int64_t));
      }
    }
    for (int c = 0; c < k_.nchecks; c++) {
      const spec::Check& ch = k_.checks[c];
      if (eval(ch.ok) == 0) fail(false, std::string(ch.message) + " (received " + operands(ch.ok) + ")");
    }
    for (int i = 0; i < k_.nargs; i++) {
      const spec::Arg& a = k_.args[i];
      if ((a.role != spec::Role::Input && a.role != spec::Role::Output) || null_[i]) continue;
      if (a.len.n) {
        int64_t want = eval(a.len);
        if (vals_[i] != want) fail(false, "argument '" + std::string(a.name) + "' has length " + std::to_string(vals_[i]) + ", expected " + a.len.text + " = " + std::to_string(want));
      }
      if (a.minLen.n) {
        int64_t want = eval(a.minLen);
        if (vals_[i] < want) fail(false, "argument '" + std::string(a.name) + "' has length " + std::to_string(vals_[i]) + ", expected at least " + a.minLen.text + " = " + std::to_string(want));
      }
      if (a.valMax.n) checkValues(i, a);
    }
    for (int i = 0; i < k_.nargs; i++) {
      const spec::Arg& a = k_.args[i];
      if (a.role == spec::Role::InputList || a.role == spec::Role::OutputList) checkList(i, a);
    }
  }

 private:
  void read(int i, const spec::Arg& a, napi_value v, char* field) {
    const char* name = a.name;
    switch (a.role) {
      case spec::Role::Input:
      case spec::Role::Output: {
        void* data = nullptr;
        size_t len = 0;
        napi_typedarray_type tt = napi_float64_array;
        // One N-API call on the common path: it fails (napi_invalid_arg) on anything not a typed array.
        if (napi_get_typedarray_info(env_, v, &tt, &len, &data, nullptr, nullptr) == napi_ok && tt == arrayType(a.dtype)) {
          null_[i] = false;
        } else {
          napi_valuetype t;
          napi_typeof(env_, v, &t);
          if (a.nullable && (t == napi_null || t == napi_undefined)) {
            null_[i] = true;
            data = nullptr;
            len = 0;
          } else {
            fail(true, "argument '" + std::string(name) + "' must be " + arrayName(a.dtype) + (a.nullable ? " or null" : "") + ", received " + describe(env_, v));
          }
        }
        vals_[i] = int64_t(len);
        data_[i] = data;
        std::memcpy(field, &data, sizeof(void*));
        return;
      }
      case spec::Role::Shape:
        vals_[i] = integerArgFast(env_, k_.name, v, name, -1, 0, double(kMaxDim));
        std::memcpy(field, &vals_[i], sizeof(int64_t));
        return;
      case spec::Role::Option: {
        bool b;
        double d;
        if (napi_get_value_bool(env_, v, &b) != napi_ok) {
          if (napi_get_value_double(env_, v, &d) != napi_ok) fail(true, "argument '" + std::string(name) + "' must be a boolean, received " + describe(env_, v));
          b = d != 0;
        }
        vals_[i] = b;
        std::memcpy(field, &b, sizeof(bool));
        return;
      }
      case spec::Role::Scalar: {
        if (a.kind == spec::Kind::Int) {
          vals_[i] = integerArgFast(env_, k_.name, v, name, -1, a.min, a.max);
          std::memcpy(field, &vals_[i], sizeof(int64_t));
          return;
        }
        double d;
        if (napi_get_value_double(env_, v, &d) != napi_ok) d = numberArg(env_, k_.name, v, name);  // throws with the message
        if (a.finite && !std::isfinite(d)) fail(false, "argument '" + std::string(name) + "' must be finite, received " + std::to_string(d));
        bool bounded = a.min > -INFINITY || a.max < INFINITY;
        if (bounded && !(d >= a.min && (a.maxExclusive ? d < a.max : d <= a.max))) {
          fail(false, "argument '" + std::string(name) + "' = " + std::to_string(d) + " must be in [" + std::to_string(a.min) + ", " + std::to_string(a.max) + (a.maxExclusive ? ")" : "]"));
        }
        if (a.kind == spec::Kind::Float) {
          float f = static_cast<float>(d);
          std::memcpy(field, &f, sizeof(float));
        } else {
          std::memcpy(field, &d, sizeof(double));
        }
        return;
      }
      case spec::Role::IntList: {
        uint32_t n = 0;
        // napi_get_array_length fails (napi_array_expected) on anything not an Array.
        if (napi_get_array_length(env_, v, &n) != napi_ok) fail(true, "argument '" + std::string(name) + "' must be an Array of integers, received " + describe(env_, v));
        if (n > uint32_t(spec::kMaxDims)) fail(false, "argument '" + std::string(name) + "' has " + std::to_string(n) + " entries, expected at most " + std::to_string(spec::kMaxDims));
        int64_t* list = lists_[a.list];
        for (uint32_t j = 0; j < n; j++) {
          napi_value e;
          napi_get_element(env_, v, j, &e);
          list[j] = integerArgFast(env_, k_.name, e, name, int64_t(j), 0, double(kMaxDim));
        }
        vals_[i] = n;
        const int64_t* ptr = list;
        std::memcpy(field, &ptr, sizeof(ptr));
        return;
      }
      case spec::Role::InputList:
      case spec::Role::OutputList: {
        uint32_t n = 0;
        // napi_get_array_length fails (napi_array_expected) on anything not an Array.
        if (napi_get_array_length(env_, v, &n) != napi_ok) fail(true, "argument '" + std::string(name) + "' must be an Array whose entries are each " + arrayName(a.dtype) + ", received " + describe(env_, v));
        std::vector<void*>& ptrs = listData_[a.list];
        std::vector<int64_t>& lens = listLen_[a.list];
        ptrs.resize(n);
        lens.resize(n);
        const napi_typedarray_type want = arrayType(a.dtype);
        for (uint32_t j = 0; j < n; j++) {
          napi_value e;
          void* data = nullptr;
          size_t len = 0;
          napi_typedarray_type tt = napi_float64_array;
          if (napi_get_element(env_, v, j, &e) != napi_ok || napi_get_typedarray_info(env_, e, &tt, &len, &data, nullptr, nullptr) != napi_ok || tt != want) {
            fail(true, "argument '" + std::string(name) + "[" + std::to_string(j) + "]' must be " + arrayName(a.dtype) + ", received " + describe(env_, e));
          }
          ptrs[j] = data;
          lens[j] = int64_t(len);
        }
        vals_[i] = n;
        const spec::List<void> list{ptrs.data(), lens.data(), int64_t(n)};  // the same layout as List<float> / List<const float>
        std::memcpy(field, &list, sizeof list);
        return;
      }
      case spec::Role::Derived: return;
    }
  }

  // An array list's rules: its entry count (size) and entry lengths equal to another list's (sameLengths).
  void checkList(int i, const spec::Arg& a) const {
    if (a.size.n) {
      int64_t want = eval(a.size);
      if (vals_[i] != want) fail(false, "argument '" + std::string(a.name) + "' has " + std::to_string(vals_[i]) + " entries, expected " + a.size.text + " = " + std::to_string(want));
    }
    if (a.sameLengths < 0) return;
    const spec::Arg& o = k_.args[a.sameLengths];
    if (vals_[i] != vals_[a.sameLengths]) {
      fail(false, "argument '" + std::string(a.name) + "' has " + std::to_string(vals_[i]) + " entries, expected as many as '" + o.name + "' (" + std::to_string(vals_[a.sameLengths]) + ")");
    }
    const std::vector<int64_t>& mine = listLen_[a.list];
    const std::vector<int64_t>& theirs = listLen_[o.list];
    for (int64_t j = 0; j < vals_[i]; j++) {
      if (mine[size_t(j)] != theirs[size_t(j)]) {
        fail(false, "argument '" + std::string(a.name) + "[" + std::to_string(j) + "]' has length " + std::to_string(mine[size_t(j)]) + ", expected the length of " + o.name + "[" + std::to_string(j) + "] = " + std::to_string(theirs[size_t(j)]));
      }
    }
  }

  void checkValues(int i, const spec::Arg& a) const {
    int64_t lo = eval(a.valMin), hi = eval(a.valMax);
    bool hasExcept = a.valExcept.n > 0;
    int64_t except = hasExcept ? eval(a.valExcept) : 0;
    const int32_t* xs = static_cast<const int32_t*>(data_[i]);  // valMax rules are on Int32Array args only
    for (int64_t j = 0; j < vals_[i]; j++) {
      int64_t x = xs[j];
      if (hasExcept && x == except) continue;
      if (x < lo || x >= hi) {
        fail(false, std::string(a.name) + "[" + std::to_string(j) + "] = " + std::to_string(x) + " is out of range, expected " + std::to_string(lo) +
                        " ≤ " + a.name + " < " + std::to_string(hi) + " (" + a.valWhat + ")" +
                        (hasExcept ? ", or " + std::string(a.valExcept.text) + " = " + std::to_string(except) : std::string()));
      }
    }
  }

  // "name = value" for every arg a rule reads.
  std::string operands(const spec::Expr& e) const {
    std::string s;
    bool seen[spec::kMaxArgs] = {};
    for (int j = e.start; j < e.start + e.n; j++) {
      const spec::Instr& in = k_.code[j];
      if (in.op != spec::Op::Var && in.op != spec::Op::Len && in.op != spec::Op::Size) continue;
      if (seen[in.a]) continue;
      seen[in.a] = true;
      const char* nm = k_.args[in.a].name;
      if (!s.empty()) s += ", ";
      s += (in.op == spec::Op::Var ? std::string(nm) : (in.op == spec::Op::Len ? "len(" : "size(") + std::string(nm) + ")") + " = " + std::to_string(vals_[in.a]);
    }
    return s;
  }

  // a + b, a − b, a · b, or a RangeError naming the rule when the result leaves ±2^53.
  int64_t add(int64_t a, int64_t b, const spec::Expr& e) const { int64_t r; bool o = __builtin_add_overflow(a, b, &r); return bounded(o, r, e); }
  int64_t sub(int64_t a, int64_t b, const spec::Expr& e) const { int64_t r; bool o = __builtin_sub_overflow(a, b, &r); return bounded(o, r, e); }
  int64_t mul(int64_t a, int64_t b, const spec::Expr& e) const { int64_t r; bool o = __builtin_mul_overflow(a, b, &r); return bounded(o, r, e); }
  int64_t bounded(bool overflow, int64_t r, const spec::Expr& e) const {
    if (overflow || r > int64_t(kMaxExact) || r < -int64_t(kMaxExact)) fail(false, std::string(e.text) + " is too large (overflows)");
    return r;
  }

  int64_t eval(const spec::Expr& e) const {
    int64_t st[spec::kMaxStack];
    int sp = 0;
    for (int j = e.start; j < e.start + e.n; j++) {
      const spec::Instr& in = k_.code[j];
      int64_t r = 0;
      switch (in.op) {
        case spec::Op::Const: st[sp++] = in.a; continue;
        case spec::Op::Var: case spec::Op::Len: case spec::Op::Size: st[sp++] = vals_[in.a]; continue;
        case spec::Op::Prod: {
          const spec::Arg& l = k_.args[in.a];
          int64_t p = 1;
          for (int64_t d = 0; d < vals_[in.a]; d++) p = mul(p, lists_[l.list][d], e);
          st[sp++] = p;
          continue;
        }
        case spec::Op::Extent: {
          const spec::Arg &sa = k_.args[in.a], &sb = k_.args[in.b];
          int64_t x = 0, n = std::min(vals_[in.a], vals_[in.b]);
          for (int64_t d = 0; d < n; d++) {
            int64_t dim = lists_[sa.list][d];
            if (dim == 0) continue;
            x = add(x, mul(dim - 1, lists_[sb.list][d], e), e);
          }
          st[sp++] = x;
          continue;
        }
        case spec::Op::IsPerm: {
          const int64_t* l = lists_[k_.args[in.a].list];
          int64_t n = vals_[in.a];
          bool seen[spec::kMaxDims] = {}, ok = true;
          for (int64_t d = 0; d < n && ok; d++) {
            ok = l[d] >= 0 && l[d] < n && !seen[l[d]];
            if (ok) seen[l[d]] = true;
          }
          st[sp++] = ok;
          continue;
        }
        case spec::Op::Not: st[sp - 1] = !st[sp - 1]; continue;
        case spec::Op::Neg: st[sp - 1] = -st[sp - 1]; continue;
        case spec::Op::Select: {
          int64_t b = st[--sp], a = st[--sp], c = st[--sp];
          st[sp++] = c ? a : b;
          continue;
        }
        default: break;
      }
      int64_t b = st[--sp], a = st[--sp];
      switch (in.op) {
        case spec::Op::Add: r = add(a, b, e); break;
        case spec::Op::Sub: r = sub(a, b, e); break;
        case spec::Op::Mul: r = mul(a, b, e); break;
        case spec::Op::Div: r = b == 0 ? 0 : a / b; break;
        case spec::Op::Mod: r = b == 0 ? 0 : a % b; break;
        case spec::Op::Lt: r = a < b; break;
        case spec::Op::Le: r = a <= b; break;
        case spec::Op::Gt: r = a > b; break;
        case spec::Op::Ge: r = a >= b; break;
        case spec::Op::Eq: r = a == b; break;
        case spec::Op::Ne: r = a != b; break;
        case spec::Op::And: r = a && b; break;
        case spec::Op::Or: r = a || b; break;
        default: break;
      }
      st[sp++] = r;
    }
    return st[0];
  }

  napi_env env_;
  const spec::Kernel& k_;
  // Not zero-filled per call (48 entries each): parse() zeroes vals_[0, nargs), and read() sets
  // null_ and data_ of every input and output before anything reads them.
  int64_t vals_[spec::kMaxArgs];
  bool null_[spec::kMaxArgs];
  const void* data_[spec::kMaxArgs];
  int64_t lists_[spec::kMaxLists][spec::kMaxDims];
  // Array lists: entry pointers and lengths (empty, hence not allocated, for kernels without lists).
  std::vector<void*> listData_[spec::kMaxArrayLists];
  std::vector<int64_t> listLen_[spec::kMaxArrayLists];
};

// The binding of one kernel: check the arguments into its Args struct, then call it. A plain
// Node-API callback, not node-addon-api's CallbackInfo: that one reads `this` and the data pointer
// too, and for more than 6 arguments allocates an array on the heap and reads the arguments twice.
template <class ArgsT, void (*const KernelTable::*Fn)(const ArgsT&), const spec::Kernel* Spec>
napi_value Bind(napi_env env, napi_callback_info info) {
  napi_value argv[spec::kMaxArgs];
  size_t argc = spec::kMaxArgs;
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc > size_t(spec::kMaxArgs)) argc = size_t(spec::kMaxArgs);
  try {
    ArgsT args{};
    Call call(env, *Spec);  // owns the storage args' list pointers point into: keep it alive through the kernel
    call.parse(argv, argc, reinterpret_cast<char*>(&args));
    (active().*Fn)(args);
  } catch (const Napi::Error& e) {
    e.ThrowAsJavaScriptException();
  }
  return nullptr;  // undefined
}

Napi::Value KernelFunction(napi_env env, const char* name, napi_callback cb) {
  napi_value fn;
  if (napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, nullptr, &fn) != napi_ok) throw Napi::Error::New(env, std::string("heed: could not create the binding of ") + name);
  return Napi::Value(env, fn);
}

Napi::Value Isa(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), active().isa); }
Napi::Value GetNumThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), poolSize()); }
Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  if (info.Length() < 1) fail(info.Env(), "setNumThreads", true, "expected 1 argument, received 0");
  poolResize(static_cast<int>(integerArg(info.Env(), "setNumThreads", info[0], "threads", 1, kMaxThreads)));
  return info.Env().Undefined();
}
Napi::Value PeakFlops(const Napi::CallbackInfo& info) {
  if (info.Length() < 1) fail(info.Env(), "peakFlops", true, "expected 1 argument, received 0");
  int64_t t = integerArg(info.Env(), "peakFlops", info[0], "threads", 1, kMaxThreads);
  return Napi::Number::New(info.Env(), active().peakFlops(static_cast<int>(t)));
}
Napi::Value Int8PeakOps(const Napi::CallbackInfo& info) {
  if (info.Length() < 1) fail(info.Env(), "int8PeakOps", true, "expected 1 argument, received 0");
  int64_t t = integerArg(info.Env(), "int8PeakOps", info[0], "threads", 1, kMaxThreads);
  return Napi::Number::New(info.Env(), active().int8PeakOps(static_cast<int>(t)));
}

// poolProfile(on: boolean | null, out: Float64Array(8)): turns the pool's profiling counters on or
// off when given a boolean, and writes the counters (threadpool.h PoolProfile, in declaration
// order) and then the calling thread's CPU time (ns) into out (and, when out has 19 elements, the
// wall-clock fields after it). A typed array, not an object: a
// profiler calls this twice per kernel, and building an object costs several µs.
Napi::Value PoolProfileBinding(const Napi::CallbackInfo& info) {
  if (info.Length() >= 1 && info[0].IsBoolean()) poolProfileEnable(info[0].As<Napi::Boolean>().Value());
  if (info.Length() < 2 || !info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
      info[1].As<Napi::TypedArray>().ElementLength() < 8) {
    fail(info.Env(), "poolProfile", true, "argument 'out' must be a Float64Array of at least 8 elements, received " + describe(info.Env(), info.Length() < 2 ? info.Env().Undefined() : info[1]));
  }
  const PoolProfile p = poolProfileRead();
  double* o = info[1].As<Napi::Float64Array>().Data();
  o[0] = p.jobs; o[1] = p.tasks; o[2] = p.taskCpuNs; o[3] = p.workerTaskCpuNs; o[4] = p.callerInJobCpuNs;
  o[5] = p.makespanNs; o[6] = p.jobsWorkerJoined;
  o[7] = threadCpuNs();
  // the wall-clock breakdown, after the caller's CPU time so that the first 8 keep their places
  if (info[1].As<Napi::TypedArray>().ElementLength() >= 19) {
    o[8] = p.jobWallNs; o[9] = p.wakeWallNs; o[10] = p.callerWaitWallNs; o[11] = p.callerTaskWallNs;
    o[12] = p.workerTaskWallNs; o[13] = p.jobsSleeperWoken; o[14] = p.jobsWakeOver20us;
    o[15] = p.idleGapWallNs; o[16] = p.gapsOverSpin; o[17] = p.workerSleeps; o[18] = p.workerSpinWallNs;
  }
  return info.Env().Undefined();
}
Napi::Value ThreadCpuNs(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), threadCpuNs()); }

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  tuneAllocator();  // memory.cpp: freed tensor buffers stay in the heap for the next op
  Napi::Object kernels = Napi::Object::New(env);
  const KernelTable& t = active();
  // One binding per kernel of the spec list, present when this ISA's table has the kernel.
#define HEED_REGISTER(name, ArgsT) \
  if (t.name != nullptr) kernels.Set(#name, KernelFunction(env, #name, Bind<ArgsT, &KernelTable::name, &spec::name##_spec::kernel>));
  HEED_KERNEL_LIST(HEED_REGISTER)
#undef HEED_REGISTER
  exports.Set("kernels", kernels);
  exports.Set("isa", Napi::Function::New(env, Isa, "isa"));
  exports.Set("getNumThreads", Napi::Function::New(env, GetNumThreads, "getNumThreads"));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads, "setNumThreads"));
  exports.Set("peakFlops", Napi::Function::New(env, PeakFlops, "peakFlops"));
  exports.Set("int8PeakOps", Napi::Function::New(env, Int8PeakOps, "int8PeakOps"));
  exports.Set("poolProfile", Napi::Function::New(env, PoolProfileBinding, "poolProfile"));
  exports.Set("threadCpuNs", Napi::Function::New(env, ThreadCpuNs, "threadCpuNs"));
  return exports;
}

}  // namespace
}  // namespace heed

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return heed::Init(env, exports); }
NODE_API_MODULE(NODE_GYP_MODULE_NAME, InitModule)
