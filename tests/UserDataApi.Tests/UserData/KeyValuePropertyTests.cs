using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using UserDataApi.Tests.Infrastructure;
using UserDataApi.UserData;

namespace UserDataApi.Tests.UserData;

/// <summary>A key the contract accepts: 1 to 256 characters, none of them a control character.</summary>
public sealed record AcceptedKey(string Text)
{
    public override string ToString() => Printable.Of(Text);
}

/// <summary>A value the contract accepts: up to 65,536 characters, no NUL.</summary>
public sealed record AcceptedValue(string Text)
{
    public override string ToString() => Printable.Of(Text);
}

/// <summary>A key set must refuse with -8, and why.</summary>
public sealed record RefusedKey(string Text, string Why)
{
    public override string ToString() => $"{Why}: {Printable.Of(Text)}";
}

/// <summary>A value set must refuse with -5, and why.</summary>
public sealed record RefusedValue(string Text, string Why)
{
    public override string ToString() => $"{Why}: {Printable.Of(Text)}";
}

public static class Printable
{
    /// <summary>Text as escaped JSON, cut short: FsCheck prints it when a property fails.</summary>
    public static string Of(string text) => $"({text.EnumerateRunes().Count()} characters) " + JsonSerializer.Serialize(text.Length > 80 ? text[..80] + "…" : text);
}

/// <summary>Generators for the text rules of SPEC §3: lengths counted in Unicode characters, control characters and NUL refused.</summary>
public static class KeyValueArbitraries
{
    public const int MaxKeyLength = 256;
    public const int MaxValueLength = 65536;

    private static readonly Gen<int> ControlCharacter = Gen.OneOf(Gen.Choose(0, 0x1F), Gen.Constant(0x7F), Gen.Choose(0x80, 0x9F));

    /// <summary>Any Unicode scalar value but control characters, weighted towards the ones that trouble encoders.</summary>
    private static readonly Gen<int> PrintableScalar = Gen.Frequency(
        (8, Gen.Choose(0x20, 0x7E)),
        (2, Gen.Choose(0xA0, 0xFF)),
        (3, Gen.Choose(0x100, 0xD7FF)),
        (2, Gen.Choose(0xE000, 0xFFFF)),
        (3, Gen.Choose(0x10000, 0x10FFFF)),
        (2, Gen.Elements('"', '\\', '/', '<', '>', '&', '\'', '+', '\u2028', '\u2029', '\uFEFF', '\u0301', '\u200F', '\uFFFD').Select(c => (int)c)));

    private static readonly Gen<int> AnyScalarButNul = Gen.Frequency((9, PrintableScalar), (1, ControlCharacter.Where(c => c != 0)));

    private static Gen<string> TextOf(Gen<int> scalar, Gen<int> length) =>
        length.SelectMany(n => Gen.ArrayOf(scalar, n)).Select(scalars => string.Concat(scalars.Select(char.ConvertFromUtf32)));

    private static Gen<string> Insert(Gen<string> text, Gen<int> scalar) =>
        from t in text
        from c in scalar
        from at in Gen.Choose(0, t.EnumerateRunes().Count())
        let runes = t.EnumerateRunes().Select(r => r.ToString()).ToList()
        select string.Concat(runes.Take(at).Append(char.ConvertFromUtf32(c)).Concat(runes.Skip(at)));

    private static readonly Gen<int> KeyLength = Gen.Frequency((6, Gen.Choose(1, 16)), (2, Gen.Choose(17, MaxKeyLength - 1)), (1, Gen.Constant(MaxKeyLength)));

    private static readonly Gen<int> ValueLength = Gen.Frequency(
        (6, Gen.Choose(0, 64)), (2, Gen.Choose(65, 4096)), (1, Gen.Constant(MaxValueLength)));

    private static readonly Gen<string> AcceptedKeyText = TextOf(PrintableScalar, KeyLength);

    public static Arbitrary<AcceptedKey> AcceptedKeys() => AcceptedKeyText.Select(t => new AcceptedKey(t)).ToArbitrary();

    public static Arbitrary<AcceptedValue> AcceptedValues() => TextOf(AnyScalarButNul, ValueLength).Select(t => new AcceptedValue(t)).ToArbitrary();

    public static Arbitrary<RefusedKey> RefusedKeys() => Gen.OneOf(
            Gen.Constant(new RefusedKey("", "empty")),
            TextOf(PrintableScalar, Gen.Choose(MaxKeyLength + 1, MaxKeyLength + 40)).Select(t => new RefusedKey(t, "too long")),
            Insert(TextOf(PrintableScalar, Gen.Choose(0, MaxKeyLength - 1)), ControlCharacter).Select(t => new RefusedKey(t, "a control character")))
        .ToArbitrary();

    public static Arbitrary<RefusedValue> RefusedValues() => Gen.Frequency(
            (4, Insert(TextOf(AnyScalarButNul, Gen.Choose(0, 200)), Gen.Constant(0)).Select(t => new RefusedValue(t, "NUL"))),
            (1, TextOf(AnyScalarButNul, Gen.Choose(MaxValueLength + 1, MaxValueLength + 40)).Select(t => new RefusedValue(t, "too long"))))
        .ToArbitrary();
}

/// <summary>Property-based: whatever the contract accepts round-trips byte-exact; whatever it refuses gets the documented code and stores nothing.</summary>
public sealed class KeyValuePropertyTests(UserDataFixture fixture) : IClassFixture<UserDataFixture>
{
    // Raw UTF-8 on the wire, not \u escapes, so that the server decodes real multi-byte text.
    private static readonly JsonSerializerOptions Wire = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private Task<JsonElement> Call(string endpoint, object body, string token) =>
        fixture.Client.PostRawAsync(endpoint, JsonSerializer.Serialize(body, Wire), token);

    [Property(MaxTest = 150, Arbitrary = [typeof(KeyValueArbitraries)])]
    public async Task Every_accepted_key_and_value_round_trip_byte_exact(AcceptedKey key, AcceptedValue value, bool isPrivate)
    {
        var token = fixture.Authority.CreateToken(UserDataFixture.NewUser());

        var set = await Call("set", new { identity_provider = "telegram", value_key = key.Text, value_data = value.Text, access_scope = isPrivate ? 0 : 1 }, token);
        var get = await Call("get", new { identity_provider = "telegram", value_keys = new[] { key.Text } }, token);
        var list = await Call("list-get", new { identity_provider = "telegram" }, token);

        Assert.Equal((int)ByIdpResultCode.Success, set.Result());
        Assert.Equal((int)ByIdpResultCode.Success, get.Result());
        var stored = Assert.Single(get.GetProperty("values").EnumerateArray());
        Assert.Equal(Encoding.UTF8.GetBytes(key.Text), Encoding.UTF8.GetBytes(stored.GetProperty("value_key").GetString()!));
        Assert.Equal(Encoding.UTF8.GetBytes(value.Text), Encoding.UTF8.GetBytes(stored.GetProperty("value_data").GetString()!));
        Assert.Equal([key.Text], list.Strings(isPrivate ? "keys_private" : "keys_public"));
    }

    [Property(MaxTest = 100, Arbitrary = [typeof(KeyValueArbitraries)])]
    public async Task Every_refused_key_answers_minus_8_and_stores_nothing(RefusedKey key, AcceptedValue value)
    {
        var user = UserDataFixture.NewUser();

        var set = await Call("set", new { identity_provider = "telegram", value_key = key.Text, value_data = value.Text }, fixture.Authority.CreateToken(user));

        Assert.Equal((int)ByIdpResultCode.KeyInvalid, set.Result());
        Assert.Equal(0, await fixture.CountRecordsAsync(user));
    }

    [Property(MaxTest = 60, Arbitrary = [typeof(KeyValueArbitraries)])]
    public async Task Every_refused_value_answers_minus_5_and_stores_nothing(AcceptedKey key, RefusedValue value)
    {
        var user = UserDataFixture.NewUser();

        var set = await Call("set", new { identity_provider = "telegram", value_key = key.Text, value_data = value.Text }, fixture.Authority.CreateToken(user));

        Assert.Equal((int)ByIdpResultCode.InvalidParameters, set.Result());
        Assert.Equal(0, await fixture.CountRecordsAsync(user));
    }
}
