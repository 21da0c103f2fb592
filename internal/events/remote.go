package events

// RemoteCommunication is published by the sendRemoteCommEvent RPC.
type RemoteCommunication struct{ Type, Data string }

func (RemoteCommunication) Name() string { return "REMOTE_COMMUNICATION" }
