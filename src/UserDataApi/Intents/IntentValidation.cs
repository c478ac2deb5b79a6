using FluentValidation;
using Microsoft.Extensions.Options;
using UserDataApi.Persistence;

namespace UserDataApi.Intents;

/// <summary>
/// The field rules of the intent calls, with FluentValidation as the user-data calls have theirs: the application
/// layer runs them first, so that every transport refuses the same requests with the same invalid-argument error.
/// </summary>
public static class IntentValidation
{
    /// <summary>The request's first broken rule as an invalid-argument error; null when it keeps them all.</summary>
    public static IntentError? Check<TRequest>(this IValidator<TRequest> validator, TRequest request) =>
        validator.Validate(request) is { IsValid: false } result ? IntentFailures.InvalidArgument(result.Errors[0].ErrorMessage) : null;
}

public sealed class StartIntentRequestValidator : AbstractValidator<StartIntentRequest>
{
    /// <summary>The longest success or failure URL (ZITADEL's limit too): each start stores both until the intent expires.</summary>
    public const int MaxRedirectUrlLength = 2048;

    public StartIntentRequestValidator(IOptions<IntentsOptions> options, IHostEnvironment environment)
    {
        RuleLevelCascadeMode = CascadeMode.Stop;
        RuleFor(r => r.IdpId).NotEmpty().WithMessage("idpId is required");
        RuleFor(r => r.Urls).NotNull().WithMessage("urls.successUrl is required");
        RuleFor(r => r.Urls!.SuccessUrl).Custom((url, context) => Redirect(url, "urls.successUrl", options.Value, environment, context)).When(r => r.Urls is not null);
        RuleFor(r => r.Urls!.FailureUrl).Custom((url, context) => Redirect(url, "urls.failureUrl", options.Value, environment, context)).When(r => r.Urls is not null);
    }

    /// <summary>No open redirects: an absolute http(s) URL, without credentials or NUL, of a configured origin.</summary>
    private static void Redirect(string? url, string field, IntentsOptions settings, IHostEnvironment environment, ValidationContext<StartIntentRequest> context)
    {
        if (Problem(url, field, settings, environment) is { } problem)
        {
            context.AddFailure(field, problem);
        }
    }

    private static string? Problem(string? url, string field, IntentsOptions settings, IHostEnvironment environment)
    {
        if (string.IsNullOrEmpty(url))
        {
            return $"{field} is required";
        }
        if (url.Length > MaxRedirectUrlLength)
        {
            return $"{field} must be at most {MaxRedirectUrlLength} characters";
        }
        if (!StoredText.IsStorable(url) || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp) || uri.UserInfo.Length > 0)
        {
            return $"{field} must be an absolute http(s) URL";
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

public sealed class AddLinkRequestValidator : AbstractValidator<AddLinkRequest>
{
    public AddLinkRequestValidator()
    {
        RuleLevelCascadeMode = CascadeMode.Stop;
        RuleFor(r => r.IdpLink).NotNull().WithMessage("idpLink.idpId and idpLink.userId are required");
        RuleFor(r => r.IdpLink!.IdpId).NotEmpty().WithMessage("idpLink.idpId and idpLink.userId are required").When(r => r.IdpLink is not null);
        RuleFor(r => r.IdpLink!.UserId).NotEmpty().WithMessage("idpLink.idpId and idpLink.userId are required").When(r => r.IdpLink is not null);
        RuleFor(r => r.IdpLink).Must(link => StoredText.IsStorable(link!.IdpId) && StoredText.IsStorable(link.UserId) && StoredText.IsStorable(link.UserName))
            .WithMessage("idpLink values must not hold NUL").When(r => r.IdpLink is not null);
    }
}

public sealed class ListLinksRequestValidator : AbstractValidator<ListLinksRequest>
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    public ListLinksRequestValidator()
    {
        RuleFor(r => r.Query).Must(query => (query?.Offset ?? 0) >= 0 && query?.Limit is null or (>= 0 and <= MaxLimit))
            .WithMessage($"query.offset must be at least 0 and query.limit between 0 and {MaxLimit}");
    }
}
