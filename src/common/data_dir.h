// Where a tide server keeps its state by default, for the server and for the CLI that reads the
// server's credentials there.
#pragma once

#include <string>

namespace tide {

// $TIDE_DATA_DIR, else $XDG_STATE_HOME/tide, else $HOME/.local/state/tide, else /var/lib/tide.
std::string defaultDataDir();

} // namespace tide
