namespace Floodgate.Relay;

/// <summary>A login a mail server may relay with; the password is kept only as a PBKDF2 hash.</summary>
public sealed record RelayUser(string Name, string PasswordHash);
