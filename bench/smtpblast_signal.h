// bench/smtpblast_signal.h — SIGINT/SIGTERM end a run with a report. The
// handler only sets a flag; it is installed without SA_RESTART so that a
// waiting io_uring_enter returns (EINTR) and the loop sees the flag at once.
#pragma once

#include <signal.h>

#include <csignal>

namespace ringmta::blast {

inline volatile std::sig_atomic_t g_stop_signal = 0;

inline void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = [](int sig) { g_stop_signal = sig; };
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

}  // namespace ringmta::blast
