-- keycard-strip.lua: Apache httpd mod_lua, beside keycard-fcgi as a
-- mod_authnz_fcgi authorizer. Removes the client's headers that could pose
-- as identity before mod_cgid builds the program's environment.
--
-- In the authorizer role keycard cannot touch the request: Apache hands the
-- client's headers to the program as HTTP_* (and, with CGIPassAuth On, the
-- bearer token). This runs in the fixups phase, after keycard decided
-- (check_user_id) and before the handler; it acts only when keycard's
-- answer carried KEYCARD_DECISION=allow into the request environment,
-- which no client can set.
--
-- Removed then, as keycard's gateway does (ARCHITECTURE.md, "Identity"):
--   X-Keycard-* (HTTP_X_KEYCARD_*), Proxy (httpoxy),
--   Authorization (unless pass_token below is true),
--   any header whose CGI name is one keycard exported (header "X-..." = ...;
--   Apache would otherwise keep the client's value and drop keycard's).
--
--   LoadModule lua_module modules/mod_lua.so
--   LuaHookFixups /usr/share/keycard/apache/keycard-strip.lua keycard_strip
--
-- Apache's own mapping (util_script.c): headers whose names hold anything
-- but letters, digits and '-' never reach a CGI program; '-' becomes '_'.

require "apache2"

local pass_token = false   -- true: the program also gets the bearer token

local function cgi_name(header)
	return "HTTP_" .. (header:upper():gsub("[^%w]", "_"))
end

function keycard_strip(r)
	local env = r.subprocess_env
	if env["KEYCARD_DECISION"] ~= "allow" then
		return apache2.DECLINED
	end
	local drop = {}
	for name in pairs(r:headers_in_table()) do
		local cgi = cgi_name(name)
		if cgi == "HTTP_X_KEYCARD" or cgi:sub(1, 15) == "HTTP_X_KEYCARD_"
		    or cgi == "HTTP_PROXY"
		    or (cgi == "HTTP_AUTHORIZATION" and not pass_token)
		    or env[cgi] ~= nil then
			drop[#drop + 1] = name
		end
	end
	for _, name in ipairs(drop) do
		r.headers_in[name] = nil
	end
	return apache2.DECLINED
end
