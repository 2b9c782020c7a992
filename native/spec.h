// The shape of a kernel spec on the native side: the tables in kernel_specs.gen.h
// (generated from src/backend/specs by scripts/gen-native-specs.ts) are made of these,
// and the one generic checker in binding.cpp interprets them.
#pragma once
#include <cstddef>
#include <cstdint>

namespace heed {
namespace spec {

enum class Role : uint8_t { Input, Output, Shape, Scalar, Option, IntList, InputList, OutputList, Derived };
enum class DType : uint8_t { None, F32, F64, I32, I8 };

// An InputList / OutputList argument in a kernel's Args struct: a JS Array of typed arrays,
// entry i at data[i] with len[i] elements, `size` entries. T is `const float` for an input
// list, `float` for an output list. The pointers live in the binding's checker, which
// outlives the kernel call.
template <class T>
struct List {
  T* const* data;
  const int64_t* len;
  int64_t size;
};
enum class Kind : uint8_t { Int, Float, Double };

// A rule is a program for a small stack machine over int64 values. Operands are all
// evaluated (no short circuit); x / 0 and x % 0 give 0; sums and products past 2^53
// are a RangeError naming the rule.
enum class Op : uint8_t {
  Const,   // push a
  Var,     // push the value of arg a (dim, int scalar, option as 0/1, derived)
  Len,     // push the length of array arg a (0 for null)
  Size,    // push the entry count of list arg a (an int list or an array list)
  Prod,    // push the product of list arg a
  Extent,  // push Σ (list a[d] − 1)·list b[d] over a[d] > 0 (b shorter than a: an error elsewhere)
  IsPerm,  // push 1 when list a is a permutation of 0..size−1
  Add, Sub, Mul, Div, Mod, Lt, Le, Gt, Ge, Eq, Ne, And, Or, Not, Neg,
  Select,  // c a b → c ? a : b
};

struct Instr {
  Op op;
  int64_t a, b;
};

// A slice of the kernel's code array; n == 0 means "no rule". text is the rule as written.
struct Expr {
  int start, n;
  const char* text;
};

struct Arg {
  const char* name;
  Role role;
  DType dtype;     // arrays
  Kind kind;       // scalars
  bool nullable;   // arrays
  size_t offset;   // of the field in the kernel's Args struct
  int list;        // IntList / InputList / OutputList: its slot in the checker's storage of that kind
  double min, max; // scalars (ints: also the integer range)
  bool maxExclusive, finite;
  Expr len, minLen;                  // arrays: exact / minimum length
  Expr valMin, valMax, valExcept;    // int arrays: every entry in [min, max) or == except
  const char* valWhat;               // what the value range is (for messages)
  Expr derived;                      // Derived: its value
  Expr size;                         // InputList / OutputList: exact entry count
  int sameLengths;                   // InputList / OutputList: entry i as long as entry i of this arg (−1: no rule)
};

struct Check {
  Expr ok;            // must be nonzero; the message echoes the values it reads
  const char* message;
};

struct Kernel {
  const char* name;
  const Instr* code;
  const Arg* args;
  int nargs;      // struct fields
  int npassed;    // args passed from JS (all but Derived), in order
  const Check* checks;
  int nchecks;
};

}  // namespace spec
}  // namespace heed
