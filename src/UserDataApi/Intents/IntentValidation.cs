using FluentValidation;
using Microsoft.Extensions.Options;
using UserDataApi.Intents.Rpc.User;
using UserDataApi.Persistence;

namespace UserDataApi.Intents;

/// <summary>
/// The field rules of the intent calls, with FluentValidation as the user-data calls have theirs: the application
/// layer runs them first, so that every transport refuses the same requests with the same invalid-argument error.
/// </summary>
public static class IntentValidation
{
    /// <summary>The longest id, name or token ZITADEL takes (its field rules' <c>max_len</c>).</summary>
    public const int MaxTextLength = 200;

    /// <summary>The request's first broken rule as an invalid-argument error; null when it keeps them all.</summary>
    public static IntentError? Check<TRequest>(this IValidator<TRequest> validator, TRequest request) =>
        validator.Validate(request) is { IsValid: false } result ? IntentFailures.InvalidArgument(result.Errors[0].ErrorMessage) : null;

    /// <summary>An id or name of at most <see cref="MaxTextLength"/> characters that PostgreSQL can store (no NUL).</summary>
    public static IRuleBuilderOptions<T, string> IsShortText<T>(this IRuleBuilder<T, string> rule, string field) =>
        rule.Must(text => text.Length <= MaxTextLength && StoredText.IsStorable(text))
            .WithMessage($"{field} must be at most {MaxTextLength} characters without NUL");
}

public sealed class StartIntentRequestValidator : AbstractValidator<StartIdentityProviderIntentRequest>
{
    /// <summary>The longest success or failure URL (ZITADEL's limit too): each start stores both until the intent expires.</summary>
    public const int MaxRedirectUrlLength = 2048;

    /// <summary>The longest LDAP password taken.</summary>
    public const int MaxPasswordLength = 1024;

    public StartIntentRequestValidator(IOptions<IntentsOptions> options, IHostEnvironment environment)
    {
        RuleLevelCascadeMode = CascadeMode.Stop;
        RuleFor(r => r.IdpId).NotEmpty().WithMessage("idpId is required").IsShortText("idpId");
        RuleFor(r => r.ContentCase).NotEqual(StartIdentityProviderIntentRequest.ContentOneofCase.None).WithMessage("urls or ldap is required");
        RuleFor(r => r.Urls.SuccessUrl).Custom((url, context) => Redirect(url, "urls.successUrl", options.Value, environment, context))
            .When(r => r.ContentCase == StartIdentityProviderIntentRequest.ContentOneofCase.Urls);
        RuleFor(r => r.Urls.FailureUrl).Custom((url, context) => Redirect(url, "urls.failureUrl", options.Value, environment, context))
            .When(r => r.ContentCase == StartIdentityProviderIntentRequest.ContentOneofCase.Urls);
        RuleFor(r => r.Ldap.Username).NotEmpty().WithMessage("ldap.username is required").IsShortText("ldap.username")
            .When(r => r.ContentCase == StartIdentityProviderIntentRequest.ContentOneofCase.Ldap);
        // (An empty password is not refused here: it fails the sign-in, as a wrong one does, SPEC §4.4.) The client
        // library passes C strings: a NUL would cut the password short, and a prefix would be checked instead.
        RuleFor(r => r.Ldap.Password).Must(password => password.Length <= MaxPasswordLength && !password.Contains('\0'))
            .WithMessage($"ldap.password must be at most {MaxPasswordLength} characters without NUL")
            .When(r => r.ContentCase == StartIdentityProviderIntentRequest.ContentOneofCase.Ldap);
    }

    /// <summary>
    /// The form a success or failure URL is stored and redirected to: absolute http(s), without credentials, escaped to
    /// printable ASCII (an IDN host in punycode), so that it always makes a valid <c>Location</c> header. Null when the
    /// text holds a control character (which URL parsing would silently drop) or has no such form.
    /// </summary>
    public static string? Canonical(string url)
    {
        if (url.Any(char.IsControl) || !Uri.TryCreate(url, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp) || uri.UserInfo.Length > 0 || uri.IsUnc)
        {
            return null;
        }
        var text = uri.GetComponents(UriComponents.SchemeAndServer, UriFormat.UriEscaped)
            .Replace(uri.Host, uri.HostNameType == UriHostNameType.Dns ? uri.IdnHost : uri.Host, StringComparison.Ordinal)
                   + uri.GetComponents(UriComponents.PathAndQuery | UriComponents.Fragment, UriFormat.UriEscaped);
        return text.All(c => c > ' ' && c < '\x7f') && Uri.TryCreate(text, UriKind.Absolute, out _) ? text : null;
    }

    /// <summary>No open redirects: an absolute http(s) URL, without credentials or control characters, of a configured origin.</summary>
    private static void Redirect(string url, string field, IntentsOptions settings, IHostEnvironment environment, ValidationContext<StartIdentityProviderIntentRequest> context)
    {
        if (Problem(url, field, settings, environment) is { } problem)
        {
            context.AddFailure(field, problem);
        }
    }

    private static string? Problem(string url, string field, IntentsOptions settings, IHostEnvironment environment)
    {
        if (string.IsNullOrEmpty(url))
        {
            return $"{field} is required";
        }
        if (url.Length > MaxRedirectUrlLength)
        {
            return $"{field} must be at most {MaxRedirectUrlLength} characters";
        }
        if (url.Any(char.IsControl))
        {
            return $"{field} must not hold control characters";
        }
        if (Canonical(url) is not { } canonical || !Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            return $"{field} must be an absolute http(s) URL";
        }
        // Escaping may lengthen it (up to 9 times): the limit holds for what is stored and redirected to.
        if (canonical.Length > MaxRedirectUrlLength)
        {
            return $"{field} must be at most {MaxRedirectUrlLength} characters once escaped";
        }
        var allowed = settings.AllowedRedirectOrigins;
        if (allowed.Count == 0)
        {
            return environment.IsDevelopment() ? null : $"{field}: no redirect origins are allowed (set Intents:AllowedRedirectOrigins)";
        }
        var origin = uri.GetLeftPart(UriPartial.Authority);
        return allowed.Any(a => Uri.TryCreate(a, UriKind.Absolute, out var allowedUri)
                                && string.Equals(allowedUri.GetLeftPart(UriPartial.Authority), origin, StringComparison.OrdinalIgnoreCase))
            ? null
            : $"{field}: origin {origin} is not in Intents:AllowedRedirectOrigins";
    }
}

public sealed class AddLinkRequestValidator : AbstractValidator<AddIDPLinkRequest>
{
    public AddLinkRequestValidator()
    {
        RuleLevelCascadeMode = CascadeMode.Stop;
        RuleFor(r => r.UserId).NotEmpty().WithMessage("userId is required").IsShortText("userId");
        RuleFor(r => r.IdpLink).NotNull().WithMessage("idpLink.idpId and idpLink.userId are required");
        RuleFor(r => r.IdpLink.IdpId).NotEmpty().WithMessage("idpLink.idpId and idpLink.userId are required").IsShortText("idpLink.idpId")
            .When(r => r.IdpLink is not null);
        RuleFor(r => r.IdpLink.UserId).NotEmpty().WithMessage("idpLink.idpId and idpLink.userId are required").IsShortText("idpLink.userId")
            .When(r => r.IdpLink is not null);
        RuleFor(r => r.IdpLink.UserName).IsShortText("idpLink.userName").When(r => r.IdpLink is not null);
    }
}

public sealed class ListLinksRequestValidator : AbstractValidator<ListIDPLinksRequest>
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    public ListLinksRequestValidator()
    {
        RuleFor(r => r.UserId).NotEmpty().WithMessage("userId is required").IsShortText("userId");
        RuleFor(r => r.Query).Must(query => query is null || query.Limit <= MaxLimit)
            .WithMessage($"query.limit must be between 0 and {MaxLimit}");
    }
}
