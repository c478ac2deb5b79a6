using Microsoft.Extensions.Options;

namespace UserDataApi.Hosting;

/// <summary>
/// The checks an options validator makes of single settings, worded alike everywhere, each failure naming the
/// setting's configuration key (SPEC §5: one clear line naming the key).
/// </summary>
public static class SettingRules
{
    /// <summary>
    /// The items of a list setting written as one string, as operators often write a list in one environment variable
    /// ("https://a.example https://b.example", "uid,mail"): none when the setting is absent or written as an array.
    /// </summary>
    public static string[] ItemsOf(string? text) =>
        (text ?? "").Split([' ', ',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public static string? AtLeast(string key, int value, int minimum) =>
        value >= minimum ? null : $"{key} must be a whole number of at least {minimum}, not '{value}'.";

    public static string? Between(string key, int value, int minimum, int maximum) =>
        value >= minimum && value <= maximum ? null : $"{key} must be a whole number from {minimum} to {maximum}, not '{value}'.";

    /// <summary>
    /// A setting the binder leaves at its default when it is not of its type (it does so inside dictionaries, as in
    /// <c>Intents:Providers</c>), checked in configuration itself: null when absent or of the type.
    /// </summary>
    public static string? OfType<T>(IConfiguration configuration, string key) where T : IParsable<T> =>
        configuration[key] is not { } value || T.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out _)
            ? null
            : typeof(T) == typeof(bool) ? $"{key} must be true or false, not '{value}'." : $"{key} must be a whole number, not '{value}'.";

    public static string? Required(string key, string? value) =>
        string.IsNullOrWhiteSpace(value) ? $"{key} is required." : null;

    /// <summary>A setting that may be left out (its default applies) but not set to nothing.</summary>
    public static string? NotBlank(string key, string? value) =>
        value is not null && string.IsNullOrWhiteSpace(value) ? $"{key} must not be empty." : null;

    public static string? AbsoluteHttpUrl(string key, string? value, bool required = false)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return required ? $"{key} is required." : null;
        }
        return Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)
            ? null
            : $"{key} must be an absolute http(s) URL, not '{value}'.";
    }

    /// <summary>Keys and documents come over https unless <paramref name="exemption"/> allows plain HTTP.</summary>
    public static string? Https(string key, string? value, bool httpsRequired, string exemption) =>
        !httpsRequired || string.IsNullOrWhiteSpace(value) || value.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
            ? null
            : $"{key} must be an https URL unless {exemption} is false.";

    /// <summary>The validation result of the failures found, in the order found (the first is the one start-up names).</summary>
    public static ValidateOptionsResult Result(IEnumerable<string?> failures)
    {
        var found = failures.OfType<string>().ToList();
        return found.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(found);
    }
}
