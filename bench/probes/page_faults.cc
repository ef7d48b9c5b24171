// Probe: what a fresh page costs on this machine — the floor of copying a model into a new
// WebAssembly heap (README, "Caching"): the first memset of 333 MB of fresh anonymous memory
// faults in every 4 KiB page; the second only writes.
//   g++ -O2 -std=c++17 bench/probes/page_faults.cc -o /tmp/page_faults && /tmp/page_faults
#include <sys/mman.h>

#include <chrono>
#include <cstdio>
#include <cstring>

int main() {
  const size_t n = size_t{333} << 20;
  void* p = mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    std::perror("mmap");
    return 1;
  }
  using Clock = std::chrono::steady_clock;
  const auto ms = [](Clock::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
  };
  const auto t0 = Clock::now();
  std::memset(p, 1, n);
  const auto t1 = Clock::now();
  std::memset(p, 2, n);
  const auto t2 = Clock::now();
  std::printf("first memset %.0f ms (%.2f us a page), second %.0f ms\n", ms(t1 - t0),
              ms(t1 - t0) * 1e3 / double(n / 4096), ms(t2 - t1));
  munmap(p, n);
  return 0;
}
