{
  "targets": [
    {
      "target_name": "netring",
      "sources": [
        "native/module.c",
        "native/napi-util.c",
        "native/socket.c",
        "native/mmap.c",
        "native/watch.c",
        "native/ioctl.c",
        "native/bpf.c",
        "native/sched.c",
        "native/xsk.c",
        "native/file.c"
      ],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-std=gnu11"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
