// WsGateway: RFC 6455 framing, connections, processing and hosting on Kestrel.
