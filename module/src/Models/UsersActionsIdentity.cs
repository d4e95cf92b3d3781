using System;
using System.Collections;
using System.ComponentModel;
using System.Management.Automation;

namespace Microsoft.Graph.Beta.PowerShell.Models
{
    /// <summary>Identity parameter of the Users.Actions cmdlets: which user to act on.</summary>
    [TypeConverter(typeof(UsersActionsIdentityTypeConverter))]
    public interface IUsersActionsIdentity
    {
        /// <summary>The unique identifier (object id or user principal name) of the user.</summary>
        string? UserId { get; set; }
    }

    /// <summary>The concrete identity; hashtables, objects and strings convert to it.</summary>
    [TypeConverter(typeof(UsersActionsIdentityTypeConverter))]
    public sealed class UsersActionsIdentity : IUsersActionsIdentity
    {
        /// <inheritdoc/>
        public string? UserId { get; set; }

        /// <summary>Shows the user, so -WhatIf and error targets are readable.</summary>
        public override string ToString() => UserId ?? string.Empty;
    }

    /// <summary>
    /// Converts pipeline input to <see cref="IUsersActionsIdentity"/>. Like the official module it
    /// takes <c>@{UserId='...'}</c> and objects with a <c>UserId</c> property; going further, it takes
    /// objects that carry the user as <c>Id</c> or <c>UserPrincipalName</c> (Get-MgBetaUser output,
    /// CSV rows) and plain strings (a file of UPNs). A dictionary or object with none of these
    /// converts to an identity without a user, which the cmdlet reports as the official error.
    /// </summary>
    public sealed class UsersActionsIdentityTypeConverter : PSTypeConverter
    {
        private static readonly string[] s_userProperties = { "UserId", "Id", "UserPrincipalName" };

        /// <inheritdoc/>
        public override bool CanConvertFrom(object sourceValue, Type destinationType) =>
            IsIdentityType(destinationType) && CanConvert(sourceValue);

        /// <inheritdoc/>
        public override bool CanConvertFrom(PSObject sourceValue, Type destinationType) =>
            IsIdentityType(destinationType) && CanConvert(sourceValue);

        /// <inheritdoc/>
        public override object ConvertFrom(object sourceValue, Type destinationType, IFormatProvider formatProvider, bool ignoreCase) =>
            Convert(sourceValue);

        /// <inheritdoc/>
        public override object ConvertFrom(PSObject sourceValue, Type destinationType, IFormatProvider formatProvider, bool ignoreCase) =>
            Convert(sourceValue);

        /// <inheritdoc/>
        public override bool CanConvertTo(object sourceValue, Type destinationType) => false;

        /// <inheritdoc/>
        public override object ConvertTo(object sourceValue, Type destinationType, IFormatProvider formatProvider, bool ignoreCase) =>
            throw new NotSupportedException();

        private static bool IsIdentityType(Type type) =>
            type == typeof(IUsersActionsIdentity) || type == typeof(UsersActionsIdentity);

        private static bool CanConvert(object? source)
        {
            object? value = source is PSObject wrapped ? wrapped.BaseObject : source;
            // Scalars other than strings (numbers, booleans) name no user: let binding fail for them.
            return value is not null && (value is string || value is IDictionary || !value.GetType().IsPrimitive);
        }

        private static UsersActionsIdentity Convert(object? source)
        {
            object? value = source is PSObject wrapped ? wrapped.BaseObject : source;
            return value switch
            {
                UsersActionsIdentity identity => identity,
                IUsersActionsIdentity other => new UsersActionsIdentity { UserId = other.UserId },
                string text => new UsersActionsIdentity { UserId = text },
                IDictionary dictionary => new UsersActionsIdentity { UserId = FromDictionary(dictionary) },
                _ => new UsersActionsIdentity { UserId = FromProperties(PSObject.AsPSObject(source!)) },
            };
        }

        private static string? FromDictionary(IDictionary dictionary)
        {
            foreach (string name in s_userProperties)
            {
                foreach (object? key in dictionary.Keys)
                {
                    if (key is string text && string.Equals(text, name, StringComparison.OrdinalIgnoreCase))
                    {
                        return AsText(dictionary[key]);
                    }
                }
            }

            return null;
        }

        private static string? FromProperties(PSObject source)
        {
            foreach (string name in s_userProperties)
            {
                if (source.Properties[name] is PSPropertyInfo property)
                {
                    return AsText(property.Value);
                }
            }

            return null;
        }

        private static string? AsText(object? value)
        {
            object? unwrapped = value is PSObject wrapped ? wrapped.BaseObject : value;
            return unwrapped switch
            {
                null => null,
                string text => text,
                Guid guid => guid.ToString(),
                _ => LanguagePrimitives.ConvertTo<string>(unwrapped),
            };
        }
    }
}
