using FluentValidation;
using Microsoft.Extensions.Options;
using UserDataApi.Persistence;

namespace UserDataApi.UserData;

// Field rules, the same in every sub-family: a failure answers -5, unless the rule carries a UserDataLimit as its
// state (the family's own code for that limit). Key validity is not here: SPEC §3 checks it after the identity
// provider, with storage.

/// <summary>A limit whose breach has a result code of its own in each sub-family's table.</summary>
public enum UserDataLimit
{
    /// <summary>get: more keys than <c>UserData:MaxKeysPerRequest</c> (keys size limit reached).</summary>
    KeysPerRequest,
}

/// <summary>
/// Whether every listed key is there and holds no NUL: one rule over the whole list, where a per-element rule
/// (<c>RuleForEach</c>) would build FluentValidation's element context for every key of every get and delete.
/// </summary>
internal static class KeyListRule
{
    public static bool AreStorableKeys(IReadOnlyList<string>? keys)
    {
        if (keys is null)
        {
            return true;
        }
        foreach (var key in keys)
        {
            if (key is null || !StoredText.IsStorable(key))
            {
                return false;
            }
        }
        return true;
    }
}

public sealed class SetRequestValidator : AbstractValidator<SetRequest>
{
    public SetRequestValidator(IOptions<UserDataOptions> options)
    {
        RuleFor(r => r.ValueKey).NotNull();
        RuleFor(r => r.ValueData)
            .NotNull()
            .Must(value => UserDataText.IsWithin(value, options.Value.MaxValueLength)).WithMessage("value_data is too long")
            .Must(StoredText.IsStorable).WithMessage("value_data holds NUL");
        RuleFor(r => r.AccessScope).InclusiveBetween(0, 1).When(r => r.AccessScope is not null);
    }
}

public sealed class GetRequestValidator : AbstractValidator<GetRequest>
{
    public GetRequestValidator(IOptions<UserDataOptions> options)
    {
        RuleFor(r => r.ValueKeys).NotEmpty().Must(KeyListRule.AreStorableKeys).WithMessage("a key is null or holds NUL");
        RuleFor(r => r.ValueKeys.Count)
            .LessThanOrEqualTo(options.Value.MaxKeysPerRequest)
            .When(r => r.ValueKeys is not null)
            .WithState(_ => UserDataLimit.KeysPerRequest);
    }
}

public sealed class ListGetRequestValidator : AbstractValidator<ListGetRequest>;

public sealed class SharedListGetRequestValidator : AbstractValidator<SharedListGetRequest>
{
    public SharedListGetRequestValidator()
    {
        RuleFor(r => r.PageSize)
            .InclusiveBetween(1u, (uint)SharedListGetRequest.MaxPageSize)
            .When(r => r.PageSize is not null);
    }
}

public sealed class DeleteRequestValidator : AbstractValidator<DeleteRequest>
{
    public DeleteRequestValidator(IOptions<UserDataOptions> options)
    {
        RuleFor(r => r.ValueKeys).NotEmpty().Must(KeyListRule.AreStorableKeys).WithMessage("a key is null or holds NUL");
        RuleFor(r => r.ValueKeys.Count).LessThanOrEqualTo(options.Value.MaxKeysPerRequest).When(r => r.ValueKeys is not null);
    }
}
