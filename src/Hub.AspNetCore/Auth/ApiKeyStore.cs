using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Hub.Server.Auth;

/// <summary>
/// The configured API keys' SHA-256 hashes. A presented key is hashed and compared with every configured hash in
/// constant time (<see cref="CryptographicOperations.FixedTimeEquals"/>), so neither the comparison nor the position of
/// the match tells an attacker anything.
/// </summary>
internal sealed class ApiKeyStore
{
    /// <summary>The longest key looked at; longer ones are refused without hashing.</summary>
    internal const int MaxKeyLength = 512;

    private readonly (ApiKeyOptions Key, byte[] Hash)[] _keys;

    public ApiKeyStore(IOptions<AuthOptions> options) =>
        _keys = options.Value.ApiKeys.Select(k => (k, Convert.FromHexString(k.Sha256))).ToArray();

    /// <summary>The key whose hash matches <paramref name="presented"/>, or <see langword="null"/>.</summary>
    public ApiKeyOptions? Find(string presented)
    {
        if (presented.Length is 0 or > MaxKeyLength)
        {
            return null;
        }

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(presented), hash);
        ApiKeyOptions? found = null;
        foreach (var (key, expected) in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(hash, expected))
            {
                found = key; // no early exit: every key is compared
            }
        }

        return found;
    }
}
