// WsGateway.Sbe: SBE runtime and codecs. Knows nothing about sockets or WebSockets.
