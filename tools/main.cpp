// Entry point of the `tollgate` CLI (placeholder until the commands land).
#include <cstdio>

int main() {
  std::puts("tollgate: commands not built yet");
  return 2;
}
