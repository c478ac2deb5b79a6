using FluentValidation;
using Microsoft.Extensions.Options;

namespace UserDataApi.UserData;

/// <summary>Field rules of get: -5 for a missing or malformed field, -7 for too many keys.</summary>
public sealed class GetRequestValidator : AbstractValidator<GetRequest>
{
    public GetRequestValidator(IOptions<UserDataOptions> options)
    {
        RuleFor(r => r.IdentityProvider).NotNull();
        RuleFor(r => r.ValueKeys).NotEmpty();
        RuleForEach(r => r.ValueKeys).NotNull();
        RuleFor(r => r.ValueKeys.Count)
            .LessThanOrEqualTo(options.Value.MaxKeysPerRequest)
            .When(r => r.ValueKeys is not null)
            .WithState(_ => ResultCode.KeysSizeLimitReached);
    }
}
