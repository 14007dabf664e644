// engine/daemon/service_notify.h — tells systemd (a Type=notify service,
// tools/ringmta.service) where the daemon stands: READY=1 once it serves,
// RELOADING=1 around a SIGHUP, STOPPING=1 when it stops. The plain
// datagram protocol of sd_notify(3), written here rather than linking
// libsystemd for one sendmsg: a datagram to the AF_UNIX socket named by
// $NOTIFY_SOCKET ("@name" for the abstract namespace). Without
// NOTIFY_SOCKET (not started by systemd) every call does nothing.
//
//   service_notify("READY=1\nSTATUS=serving on 0.0.0.0:25");
#pragma once

#include <string_view>

namespace ringmta {

// service_notify sends state (newline-separated KEY=VALUE lines); a
// failure is logged as a warning and otherwise ignored: systemd's
// own timeout reports a service that never said READY.
void service_notify(std::string_view state);

// service_reloading: RELOADING=1 with the MONOTONIC_USEC systemd 253
// wants for Type=notify-reload (older ones ignore it).
void service_reloading();

}  // namespace ringmta
