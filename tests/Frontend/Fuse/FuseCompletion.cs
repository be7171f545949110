namespace VirtioFs.Frontend.Fuse;

/// <summary>A reaped pipelined request: its unique, opcode, positive errno and the reply body length after out_header.</summary>
public readonly record struct FuseCompletion(ulong Unique, FuseOpcode Opcode, int Errno, int BodyLength);
