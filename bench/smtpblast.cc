// bench/smtpblast.cc — smtpblast: a pipelining SMTP load generator
// (smtpblast_client.h) and a programmable sink (smtpblast_sink.h), one
// thread and one io_uring each. `smtpblast --help` lists every flag.
//
//   smtpblast --sink --listen 127.0.0.1:2525 --expect 20000 &
//   smtpblast --server 127.0.0.1:2525 --messages 20000 --pipelining
#include <cstdio>
#include <string>

#include "bench/smtpblast_client.h"
#include "bench/smtpblast_options.h"
#include "bench/smtpblast_signal.h"
#include "bench/smtpblast_sink.h"
#include "engine/tls/tls_context.h"

int main(int argc, char** argv) {
  using namespace ringmta::blast;
  absl::StatusOr<Options> options = parse_options(argc, argv);
  if (!options.ok()) {
    std::fprintf(stderr, "smtpblast: %s\n", std::string(options.status().message()).c_str());
    return 2;
  }
  if (options->help) {
    std::fputs(options_help().c_str(), stdout);
    return 0;
  }
  install_stop_handlers();
  const int status = options->sink ? Sink(*options).run() : Client(*options).run();
  // wolfSSL's per-thread caches (LeakSanitizer reports them otherwise).
  ringmta::tls_thread_exit();
  return status;
}
