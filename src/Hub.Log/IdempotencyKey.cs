namespace Hub.Log;

/// <summary>
/// An <c>Idempotency-Key</c> as the log remembers it: the key a publisher sent, scoped to the credential that sent it.
/// The same key from another subject is another key (as Stripe scopes keys per account), so one tenant can neither
/// read another's answer nor pre-empt its keys.
/// </summary>
/// <param name="Subject">Who sent it: a token's <c>sub</c>, <c>key:NAME</c> for an API key, or
/// <see cref="Anonymous"/> when the hub asks for no credentials (<c>"Hub:Auth:Mode": "None"</c>).</param>
/// <param name="Key">The header's value (1 to 255 printable characters).</param>
public readonly record struct IdempotencyKey(string Subject, string Key)
{
    /// <summary>The one subject of a hub that asks for no credentials (a token's <c>sub</c> is never empty).</summary>
    public const string Anonymous = "";
}
