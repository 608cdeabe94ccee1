{
  "targets": [
    {
      "target_name": "nat64_native",
      "sources": [
        "native/addon.cc",
        "native/checksum.cc",
        "native/eal.cc",
        "native/errors.cc",
        "native/frag.cc",
        "native/gen.cc",
        "native/io.cc",
        "native/kernel-iface.cc",
        "native/memory.cc",
        "native/mempool.cc",
        "native/packet-rings.cc",
        "native/port.cc",
        "native/prefetch.cc",
        "native/shard.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "ALLOW_EXPERIMENTAL_API"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter",
                    "<!@(pkg-config --cflags libdpdk)"],
      "libraries": ["<!@(pkg-config --libs libdpdk)"]
    }
  ]
}
