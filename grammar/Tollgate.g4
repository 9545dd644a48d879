// The Tollgate policy language (.pol and _test.pol files): lexer and parser in one grammar.
// compiler/parser*.cpp turns the parse tree into compiler/ast.h; decoding of literal values, escape
// checks, and the readable "expected ..." error wording live there, not here.
//
// Precedence: in a left-recursive rule the alternatives listed first bind tighter, so `not` is listed
// after the comparisons (`not a == b` is `not (a == b)`) and before `and` / `or`.
grammar Tollgate;

program : item* EOF ;

item
  : header
  | inputBlock
  | routesBlock
  | budgetDecl
  | letDecl
  | ruleDecl
  | testBlock
  ;

// ---- declarations --------------------------------------------------------------------------------

header : 'policy' ident ('on_error' onErrorMode)? ;
onErrorMode : 'skip' | 'deny' ;

inputBlock : 'input' '{' inputDecl* '}' ;
inputDecl : ident ':' typeSpec ('=' constValue)? ;
typeSpec
  : 'bool'                                        # boolType
  | 'int'                                         # intType
  | 'float'                                       # floatType
  | 'string'                                      # stringType
  | 'enum' '(' ident (',' ident)* ','? ')'        # enumType
  ;

routesBlock : 'routes' '{' routeDecl* '}' ;
routeDecl : ident '=' STRING routeOption* ;
routeOption
  : 'self_hosted'                                 # selfHostedOption
  | 'batch'                                       # batchOption
  | 'in' PRICE 'out' PRICE                        # priceOption
  ;

budgetDecl
  : 'budget' ident '=' budgetLimit budgetUnit? ('per' key=ident)? 'per' budgetWindow
    ('fail' failMode)?
  ;
budgetLimit : INT | FLOAT | MONEY | ident ;
budgetUnit : 'usd' | 'tokens' | 'requests' ;
budgetWindow : 'minute' | 'hour' | 'day' | 'month' ;
failMode : 'open' | 'closed' ;

letDecl : 'let' ident '=' expr ;

// ---- rules ---------------------------------------------------------------------------------------

// Newlines are whitespace: the action keywords end the condition.
ruleDecl
  : 'if' expr action+                             # ifRule
  | 'default' action+                             # defaultRule
  ;

action
  : 'route' ident                                 # routeAction
  | 'deny' STRING                                 # denyAction
  | 'max_out' expr                                # maxOutAction
  | 'max_in' expr                                 # maxInAction
  | 'retry' ('backoff' expr)?                     # retryAction
  | 'rag' 'off'                                   # ragOffAction
  | 'rag' ('top_k' expr)?                         # ragAction
  | 'cache' cacheMode                             # cacheAction
  | 'tag' expr                                    # tagAction
  ;
cacheMode : 'prompt' | 'response' | 'off' ;

// ---- expressions ---------------------------------------------------------------------------------

expr
  : primary                                                          # primaryExpr
  | '-' expr                                                         # negExpr
  | expr op=('*' | '/' | '%') expr                                   # mulExpr
  | expr op=('+' | '-') expr                                         # addExpr
  | expr op=('==' | '!=' | '<' | '<=' | '>' | '>='
            | 'startswith' | 'endswith' | 'contains') expr           # cmpExpr
  | expr 'not'? 'in' list                                            # inExpr
  | op=('not' | '!') expr                                            # notExpr
  | expr op=('and' | '&&') expr                                      # andExpr
  | expr op=('or' | '||') expr                                       # orExpr
  ;

primary
  : literal                                       # literalPrimary
  | ident '.' ident                               # memberPrimary
  | ident '(' (expr (',' expr)*)? ')'             # callPrimary
  | ident                                         # namePrimary
  | '(' expr ')'                                  # parenPrimary
  ;

list : '[' (constValue (',' constValue)* ','?)? ']' ;

literal
  : INT
  | FLOAT
  | PERCENT
  | MONEY
  | (INT | FLOAT) 'usd'
  | DURATION
  | STRING
  | 'true'
  | 'false'
  | PRICE        // only valid in routes; accepted here so the parser can say so
  ;

// A literal, a negative number, or a bare name: input defaults, list items, test givens.
constValue
  : '-'? literal                                  # literalValue
  | ident                                         # nameValue
  ;

// Words that are keywords elsewhere but read naturally as names (DESIGN.md's own example has
// `enum(..., tag, ...)`, `error: enum(none, ...)` and a route called `batch`). None of them can
// continue an expression, so allowing them as names creates no ambiguity.
ident : ID | 'tag' | 'batch' | 'none' | 'off' | 'prompt' | 'response' | 'open' | 'closed' | 'skip' ;

// ---- tests (NAME_test.pol) -----------------------------------------------------------------------

testBlock : 'test' STRING '{' (givenClause | expectClause)* '}' ;
givenClause : 'given' given (',' given)* ;
given : ident ('.' view=ident)? '=' constValue ;
expectClause : 'expect' expectItem (',' expectItem)* ;
expectItem
  : 'route' ident                                 # expectRoute
  | 'deny' STRING?                                # expectDeny
  | 'max_out' expectCap                           # expectMaxOut
  | 'max_in' expectCap                            # expectMaxIn
  | 'retry' boolLit                               # expectRetry
  | 'backoff' (DURATION | INT)                    # expectBackoff
  | 'rag' boolLit                                 # expectRag
  | 'top_k' INT                                   # expectTopK
  | 'cache' cacheMode                             # expectCache
  | 'tag' STRING                                  # expectTag
  ;
expectCap : INT | 'none' ;
boolLit : 'true' | 'false' ;

// ---- lexer ---------------------------------------------------------------------------------------

K_POLICY : 'policy' ;
K_ON_ERROR : 'on_error' ;
K_SKIP : 'skip' ;
K_INPUT : 'input' ;
K_ROUTES : 'routes' ;
K_SELF_HOSTED : 'self_hosted' ;
K_BATCH : 'batch' ;
K_IN : 'in' ;
K_OUT : 'out' ;
K_BUDGET : 'budget' ;
K_USD : 'usd' ;
K_TOKENS : 'tokens' ;
K_REQUESTS : 'requests' ;
K_PER : 'per' ;
K_MINUTE : 'minute' ;
K_HOUR : 'hour' ;
K_DAY : 'day' ;
K_MONTH : 'month' ;
K_FAIL : 'fail' ;
K_OPEN : 'open' ;
K_CLOSED : 'closed' ;
K_LET : 'let' ;
K_IF : 'if' ;
K_DEFAULT : 'default' ;
K_ROUTE : 'route' ;
K_DENY : 'deny' ;
K_MAX_OUT : 'max_out' ;
K_MAX_IN : 'max_in' ;
K_RETRY : 'retry' ;
K_BACKOFF : 'backoff' ;
K_RAG : 'rag' ;
K_TOP_K : 'top_k' ;
K_OFF : 'off' ;
K_CACHE : 'cache' ;
K_PROMPT : 'prompt' ;
K_RESPONSE : 'response' ;
K_TAG : 'tag' ;
K_AND : 'and' ;
K_OR : 'or' ;
K_NOT : 'not' ;
K_TRUE : 'true' ;
K_FALSE : 'false' ;
K_STARTSWITH : 'startswith' ;
K_ENDSWITH : 'endswith' ;
K_CONTAINS : 'contains' ;
K_TEST : 'test' ;
K_GIVEN : 'given' ;
K_EXPECT : 'expect' ;
K_NONE : 'none' ;
K_BOOL : 'bool' ;
K_INT : 'int' ;
K_FLOAT : 'float' ;
K_STRING : 'string' ;
K_ENUM : 'enum' ;

AMPAMP : '&&' ;
PIPEPIPE : '||' ;
// A single `&` / `|` is reported by the parser ("use '&&' or 'and'") and parsed as the double one.
SINGLE_AMP : '&' -> type(AMPAMP) ;
SINGLE_PIPE : '|' -> type(PIPEPIPE) ;
EQ : '==' ;
NE : '!=' ;
LE : '<=' ;
GE : '>=' ;
LT : '<' ;
GT : '>' ;
BANG : '!' ;
PLUS : '+' ;
MINUS : '-' ;
STAR : '*' ;
SLASH : '/' ;
PERCENT_OP : '%' ;
LPAREN : '(' ;
RPAREN : ')' ;
LBRACK : '[' ;
RBRACK : ']' ;
LBRACE : '{' ;
RBRACE : '}' ;
COMMA : ',' ;
COLON : ':' ;
ASSIGN : '=' ;
DOT : '.' ;

// Numbers: `_` separators; k = x1000 and M = x1_000_000 on ints; values are decoded by the parser.
PRICE : '$' DIGITS ('.' DIGITS)? '/M' ;
MONEY : '$' DIGITS ('.' DIGITS)? [kM]? ;
DURATION : DIGITS ('ms' | 's' | 'min' | 'h') ;
// `80%` is a percentage; when an operand follows directly (`10%3`) the parser's lexer wrapper
// splits it into a number and the modulo operator (a lexer predicate would do it, but ANTLR 4.9's
// runtime leaks memory on lexer predicates).
PERCENT : DIGITS ('.' DIGITS)? '%' ;
FLOAT : DIGITS '.' DIGITS ;
INT : DIGITS [kM]? ;

ID : [a-z_] [a-z0-9_]* ;
// Reported by the parser ("names are lowercase"); typed as ID so parsing carries on.
UPPER_ID : [a-zA-Z_] [a-zA-Z0-9_]* -> type(ID) ;

STRING : '"' (~["\\\r\n] | '\\' ~[\r\n])* '"' ;
// Reported by the parser ("unterminated string"); typed as STRING so parsing carries on.
UNTERMINATED_STRING : '"' (~["\\\r\n] | '\\' ~[\r\n])* '\\'? -> type(STRING) ;

COMMENT : '#' ~[\r\n]* -> channel(HIDDEN) ;
WS : [ \t\r\n\f]+ -> skip ;
// Any other character: reported by the parser and hidden, so parsing carries on without it.
UNKNOWN_CHAR : . -> channel(HIDDEN) ;

fragment DIGITS : [0-9] ('_'? [0-9])* ;
