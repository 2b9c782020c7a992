# The heed native addon. Kernel sources are compiled three times, once per ISA,
# into static libraries with their own flags; dispatch.cpp picks one at load.
{
  "variables": {
    "kernel_sources": [
      "native/table.cpp",
      "native/gemm.cpp",
      "native/peak.cpp",
      "native/attention.cpp",
      "native/softmax.cpp",
      "native/norm.cpp",
      "native/elementwise.cpp",
      "native/embedding.cpp",
      "native/crossentropy.cpp",
      "native/optim.cpp",
      "native/int8.cpp",
      "native/layout.cpp",
      "native/conv.cpp",
    ],
    "common_cflags": ["-O3", "-std=c++17", "-fno-math-errno", "-fPIC", "-Wall", "-Wno-unused-function"],
  },
  "target_defaults": {
    "cflags!": ["-fno-exceptions", "-O2", "-O1", "-O0"],
    "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++1y", "-std=gnu++20", "-O2", "-O0"],
    "cflags_cc": ["-fexceptions", "<@(common_cflags)"],
    "include_dirs": ["native"],
  },
  "targets": [
    {
      "target_name": "heed_avx512",
      "type": "static_library",
      "sources": ["<@(kernel_sources)"],
      "defines": ["HEED_NS=avx512", "HEED_ISA_NAME=\"avx512\""],
      "cflags_cc": ["-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512vnni", "-mfma", "-mavx2", "-mprefer-vector-width=512"],
    },
    {
      "target_name": "heed_avx2",
      "type": "static_library",
      "sources": ["<@(kernel_sources)"],
      "defines": ["HEED_NS=avx2", "HEED_ISA_NAME=\"avx2\""],
      "cflags_cc": ["-mavx2", "-mfma"],
    },
    {
      "target_name": "heed_generic",
      "type": "static_library",
      "sources": ["<@(kernel_sources)"],
      "defines": ["HEED_NS=generic", "HEED_ISA_NAME=\"generic\""],
      "cflags_cc": [],
    },
    {
      "target_name": "heed",
      "dependencies": ["heed_avx512", "heed_avx2", "heed_generic"],
      "sources": ["native/binding.cpp", "native/dispatch.cpp", "native/threadpool.cpp", "native/memory.cpp"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "libraries": ["-lpthread"],
    },
  ],
}
