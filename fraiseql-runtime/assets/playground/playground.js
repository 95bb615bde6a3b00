// Mounts GraphiQL on the playground page. Queries go to this server's own /graphql endpoint
// (same origin, so no CORS and no configuration).
(function () {
  'use strict';
  var fetcher = GraphiQL.createFetcher({ url: '/graphql' });
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: '{\n  users(limit: 3) {\n    id\n    name\n  }\n}\n',
      defaultEditorToolsVisibility: true,
    }),
  );
})();
