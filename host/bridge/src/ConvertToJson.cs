using System;
using System.Reflection;

namespace PwshHost.Bridge
{
    /// <summary>
    /// <c>ConvertTo-Json</c>'s own converter (<c>Microsoft.PowerShell.Commands.JsonObject</c>),
    /// found by reflection in the hosted PowerShell: referencing its package at build time would
    /// download Roslyn and the rest of the Utility module's dependencies (over 100 MB) for one
    /// method. Resolved once; if a PowerShell lacks it, conversion fails with a clear message.
    /// </summary>
    internal static class ConvertToJson
    {
        private static readonly Lazy<(ConstructorInfo Context, MethodInfo Convert)?> s_converter = new(Find);

        /// <summary>The object as compressed JSON, enums as names, at most <paramref name="depth"/> deep.</summary>
        internal static string Convert(object item, int depth)
        {
            if (s_converter.Value is not var (context, convert))
            {
                throw new InvalidOperationException(
                    "this PowerShell has no Microsoft.PowerShell.Commands.JsonObject.ConvertToJson(object, in ConvertToJsonContext): use PowerShell 7.6 or later");
            }

            object settings = context.Invoke(new object[] { depth, true, true });
            return convert.Invoke(null, new[] { item, settings }) as string ?? "null";
        }

        private static (ConstructorInfo, MethodInfo)? Find()
        {
            Type? jsonObject = Type.GetType("Microsoft.PowerShell.Commands.JsonObject, Microsoft.PowerShell.Commands.Utility");
            Type? contextType = jsonObject?.GetNestedType("ConvertToJsonContext");
            if (jsonObject is null || contextType is null)
            {
                return null;
            }

            ConstructorInfo? context = contextType.GetConstructor(new[] { typeof(int), typeof(bool), typeof(bool) });
            MethodInfo? convert = jsonObject.GetMethod(
                "ConvertToJson",
                BindingFlags.Public | BindingFlags.Static,
                new[] { typeof(object), contextType.MakeByRefType() });
            return context is null || convert is null ? null : (context, convert);
        }
    }
}
